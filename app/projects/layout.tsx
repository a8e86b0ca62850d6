import type { ReactNode } from "react";
import { SignedInShell } from "@/app/signed-in-shell";

export default function ProjectsLayout({ children }: { children: ReactNode }) {
  return <SignedInShell>{children}</SignedInShell>;
}
