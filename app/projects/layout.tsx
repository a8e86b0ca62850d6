import type { ReactNode } from "react";
import { signOut } from "@/app/auth";
import { requireUser } from "@/app/current-user";
import { AppHeader } from "@/components/layout/AppHeader";

export default async function ProjectsLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  async function signOutAction() {
    "use server";
    await signOut({ redirectTo: "/signin" });
  }
  return (
    <>
      <AppHeader userName={user.name ?? user.email ?? "Signed in"} signOut={signOutAction} />
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </>
  );
}
