import type { PullRequestState } from "@/db/schema";

const STYLE: Record<PullRequestState, string> = {
  open: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  merged: "bg-violet-100 text-violet-800 dark:bg-violet-950 dark:text-violet-300",
  closed: "bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
};

/** A pull request's state as a coloured pill. */
export function PullStateBadge({ state }: { state: PullRequestState }) {
  return (
    <span
      data-testid="pull-state"
      data-state={state}
      className={`inline-flex shrink-0 items-center rounded-full px-2 py-0.5 text-xs font-medium ${STYLE[state]}`}
    >
      {state}
    </span>
  );
}

/** Lines added and removed, green and red. */
export function LineCounts({ additions, deletions }: { additions: number; deletions: number }) {
  return (
    <span className="whitespace-nowrap font-mono text-xs">
      <span className="text-emerald-700 dark:text-emerald-400">+{additions}</span>{" "}
      <span className="text-red-700 dark:text-red-400">−{deletions}</span>
    </span>
  );
}
