import type { ReactNode } from "react";
import { signOut } from "@/app/auth";
import { requireUser } from "@/app/current-user";
import { AppHeader } from "@/components/layout/AppHeader";
import { NoEvalRuntime } from "@/components/layout/NoEvalRuntime";

/** The frame of every page for signed-in users: the header with their name, and the page below. */
export async function SignedInShell({ children }: { children: ReactNode }) {
  const user = await requireUser();
  async function signOutAction() {
    "use server";
    await signOut({ redirectTo: "/signin" });
  }
  return (
    <>
      <NoEvalRuntime />
      <AppHeader userName={user.name ?? user.email ?? "Signed in"} signOut={signOutAction} />
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </>
  );
}
