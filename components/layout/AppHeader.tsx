import Link from "next/link";

export function AppHeader({ userName, signOut }: { userName: string; signOut: () => Promise<void> }) {
  return (
    <header className="border-b border-zinc-200 dark:border-zinc-800">
      <div className="mx-auto flex max-w-7xl items-center justify-between gap-4 px-4 py-3">
        <Link href="/projects" className="font-semibold tracking-tight">
          SAM
        </Link>
        <div className="flex items-center gap-3 text-sm">
          <span className="truncate text-zinc-600 dark:text-zinc-400" data-testid="current-user">
            {userName}
          </span>
          <Link href="/account" className="rounded-md px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-900">
            Account
          </Link>
          <form action={signOut}>
            <button type="submit" className="rounded-md px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-900">
              Sign out
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}
