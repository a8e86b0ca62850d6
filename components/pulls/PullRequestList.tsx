import Link from "next/link";
import type { PullSummary } from "@/lib/pulls/pull-json";
import { LineCounts, PullStateBadge } from "./PullStateBadge";

/** The project's pull requests, newest first: number, title, state, lines, files. */
export function PullRequestList({ projectId, pulls }: { projectId: string; pulls: PullSummary[] }) {
  if (pulls.length === 0) {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">No pull requests here.</p>;
  }
  return (
    <ul
      data-testid="pull-list"
      className="divide-y divide-zinc-200 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800"
    >
      {pulls.map((pr) => (
        <li key={pr.id} data-pull-number={pr.number} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2">
          <span className="font-mono text-sm text-zinc-600 dark:text-zinc-400">#{pr.number}</span>
          <Link
            href={`/projects/${projectId}/pulls/${pr.number}`}
            className="min-w-0 flex-1 truncate font-medium hover:underline"
          >
            {pr.title}
          </Link>
          <PullStateBadge state={pr.state} />
          <LineCounts additions={pr.additions} deletions={pr.deletions} />
          <span className="text-xs text-zinc-600 dark:text-zinc-400">
            {pr.changedFiles} {pr.changedFiles === 1 ? "file" : "files"}
          </span>
        </li>
      ))}
    </ul>
  );
}
