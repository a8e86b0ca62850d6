import type { ReactNode } from "react";
import { signOut } from "@/app/auth";
import { requireUser } from "@/app/current-user";
import { AppHeader } from "@/components/layout/AppHeader";
import { NoEvalRuntime } from "@/components/layout/NoEvalRuntime";
import { CommandPalette } from "@/components/shell/CommandPalette";
import { ShellProvider } from "@/components/shell/ShellProvider";
import { getDb } from "@/db/client";
import { listProjects } from "@/lib/projects/projects";

/**
 * The frame of every page for signed-in users: a fixed header, and below it the page, which lays
 * out its own scrolling regions (a project's pages: the rail, the main pane and the task panel).
 */
export async function SignedInShell({ children }: { children: ReactNode }) {
  const user = await requireUser();
  const projects = await listProjects(getDb(), user.id);
  async function signOutAction() {
    "use server";
    await signOut({ redirectTo: "/signin" });
  }
  return (
    <ShellProvider>
      <NoEvalRuntime />
      <div className="flex h-full flex-col">
        <AppHeader userName={user.name ?? user.email ?? "Signed in"} signOut={signOutAction} />
        <div className="relative flex min-h-0 flex-1">{children}</div>
      </div>
      <CommandPalette projects={projects.map((p) => ({ id: p.id, name: p.name }))} />
    </ShellProvider>
  );
}
