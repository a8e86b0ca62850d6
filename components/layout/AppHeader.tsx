"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { NotificationBell } from "@/components/notifications/NotificationBell";
import { useShell } from "@/components/shell/ShellProvider";

/** The fixed bar at the top: the menu (phones), home, search, the notification bell, and the signed-in user. */
export function AppHeader({ userName, signOut }: { userName: string; signOut: () => Promise<void> }) {
  const { setDrawerOpen, drawerOpen, setPaletteOpen } = useShell();
  const pathname = usePathname();
  const hasRail = /^\/projects\/[^/]+/.test(pathname);
  return (
    <header
      data-testid="app-header"
      className="z-30 flex h-12 shrink-0 items-center gap-2 border-b border-zinc-200 bg-white px-3 dark:border-zinc-800 dark:bg-zinc-950"
    >
      {hasRail ? (
        <button
          type="button"
          aria-label="Open navigation"
          aria-expanded={drawerOpen}
          aria-controls="project-rail"
          onClick={() => setDrawerOpen(!drawerOpen)}
          className="rounded-md p-1.5 hover:bg-zinc-100 md:hidden dark:hover:bg-zinc-900"
        >
          <svg aria-hidden viewBox="0 0 20 20" className="size-5" fill="currentColor">
            <path d="M3 5h14v2H3zM3 9h14v2H3zM3 13h14v2H3z" />
          </svg>
        </button>
      ) : null}
      <Link href="/projects" className="flex items-center gap-1.5 font-semibold tracking-tight">
        <svg aria-hidden viewBox="0 0 32 32" className="size-5">
          <rect width="32" height="32" rx="7" className="fill-zinc-900 dark:fill-zinc-100" />
          <path
            d="M9 20.5c1.2 1.4 3 2 5 2 2.6 0 4.5-1.2 4.5-3.3 0-4.4-9-2.6-9-7.3C9.5 9.8 11.3 8.5 14 8.5c1.7 0 3.1.5 4.2 1.5"
            className="fill-none stroke-white dark:stroke-zinc-900"
            strokeWidth="2.4"
            strokeLinecap="round"
          />
          <circle cx="23" cy="21" r="2.5" className="fill-blue-500" />
        </svg>
        SAM
      </Link>
      <button
        type="button"
        data-testid="open-palette"
        onClick={() => setPaletteOpen(true)}
        className="ml-auto flex min-w-0 items-center gap-2 rounded-md border border-zinc-300 px-2.5 py-1 text-sm text-zinc-600 hover:bg-zinc-50 sm:ml-4 sm:w-64 dark:border-zinc-700 dark:text-zinc-400 dark:hover:bg-zinc-900"
      >
        <svg
          aria-hidden
          viewBox="0 0 20 20"
          className="size-4 shrink-0"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
        >
          <circle cx="9" cy="9" r="5.5" />
          <path d="m13.5 13.5 3.5 3.5" />
        </svg>
        <span className="hidden truncate sm:inline">Jump to…</span>
        <span className="sr-only sm:hidden">Jump to…</span>
        <kbd className="ml-auto hidden rounded border border-zinc-300 px-1 font-sans text-[11px] sm:inline dark:border-zinc-700">
          Ctrl K
        </kbd>
      </button>
      <div className="flex min-w-0 items-center gap-1 text-sm sm:ml-auto">
        <span
          className="hidden max-w-48 truncate text-zinc-600 sm:inline dark:text-zinc-400"
          data-testid="current-user"
        >
          {userName}
        </span>
        <NotificationBell />
        <Link
          href="/account"
          aria-current={pathname.startsWith("/account") ? "page" : undefined}
          className="rounded-md px-2 py-1 hover:bg-zinc-100 aria-[current=page]:bg-zinc-200 aria-[current=page]:font-medium dark:hover:bg-zinc-900 dark:aria-[current=page]:bg-zinc-800"
        >
          Account
        </Link>
        <form action={signOut}>
          <button
            type="submit"
            className="whitespace-nowrap rounded-md px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-900"
          >
            Sign out
          </button>
        </form>
      </div>
    </header>
  );
}
