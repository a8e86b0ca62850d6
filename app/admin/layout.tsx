import type { ReactNode } from "react";
import { SignedInShell } from "@/app/signed-in-shell";
import { PageMain } from "@/components/shell/PageMain";

export default function AdminLayout({ children }: { children: ReactNode }) {
  return (
    <SignedInShell>
      <PageMain>{children}</PageMain>
    </SignedInShell>
  );
}
