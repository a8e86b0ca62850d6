"use client";

import type { ReactNode } from "react";
import { useShell } from "./ShellProvider";

/**
 * The left rail: a column beside the page on wide screens, a drawer over it on phones (opened from
 * the header's menu, closed by Esc, the backdrop, or moving to another page).
 */
export function RailDrawer({ children }: { children: ReactNode }) {
  const { drawerOpen, setDrawerOpen } = useShell();
  return (
    <>
      {drawerOpen ? (
        <button
          type="button"
          aria-label="Close navigation"
          tabIndex={-1}
          onClick={() => setDrawerOpen(false)}
          className="absolute inset-0 z-30 bg-black/40 md:hidden"
        />
      ) : null}
      <nav
        id="project-rail"
        aria-label="Project"
        data-testid="project-rail"
        data-open={drawerOpen}
        className={`${drawerOpen ? "flex" : "hidden"} absolute inset-y-0 left-0 z-40 w-[min(20rem,85vw)] flex-col border-r border-zinc-200 bg-zinc-50 md:static md:z-auto md:flex md:w-72 md:shrink-0 dark:border-zinc-800 dark:bg-zinc-900`}
      >
        {children}
      </nav>
    </>
  );
}
