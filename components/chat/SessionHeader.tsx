import Link from "next/link";
import type { ReactNode } from "react";
import { PullRequestLink } from "@/components/pulls/PullRequestLink";
import { TaskStatusBadge } from "@/components/tasks/TaskStatusBadge";
import type { TaskJson } from "@/components/tasks/task-json";
import { WaitingOnSubtasks } from "@/components/tasks/WaitingOnSubtasks";

/** Links only to web pages: a PR URL comes from an agent and must not become a script link. */
function webUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** The session's title and where its task stands: status, branch, PR, failure. */
export function SessionHeader({
  projectId,
  task,
  live,
  aside,
}: {
  projectId: string;
  task: TaskJson;
  live: boolean;
  aside?: ReactNode;
}) {
  const pr = task.prUrl ? webUrl(task.prUrl) : undefined;
  return (
    <header className="space-y-2 border-b border-zinc-200 pb-3 dark:border-zinc-800">
      <div className="flex flex-wrap items-center gap-2">
        <h2 data-testid="session-title" className="min-w-0 break-words text-lg font-semibold tracking-tight">
          {task.title}
        </h2>
        <span data-testid="session-status">
          <TaskStatusBadge status={task.status} blocked={task.blockedBy.length > 0} />
        </span>
        <WaitingOnSubtasks count={task.waitingOn} />
        <span className="rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-800">
          {task.mode === "task" ? "task" : "conversation"}
        </span>
        {live ? null : (
          <span className="text-xs text-zinc-600 dark:text-zinc-400" title="Reload the page to see new activity">
            live updates stopped
          </span>
        )}
        <Link
          href={`/projects/${projectId}/tasks/${task.id}`}
          className="ml-auto text-sm text-zinc-600 underline dark:text-zinc-400"
        >
          Task details
        </Link>
      </div>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-zinc-600 dark:text-zinc-400">
        {/* A conversation saves and pushes nothing: it shows no branch. */}
        {task.mode === "task" && task.branch ? (
          <span>
            Branch{" "}
            <span data-testid="session-branch" className="font-mono text-zinc-900 dark:text-zinc-100">
              {task.branch}
            </span>
          </span>
        ) : null}
        {task.pullRequest ? (
          <PullRequestLink projectId={projectId} pullRequest={task.pullRequest} />
        ) : pr ? (
          <a href={pr} target="_blank" rel="noopener noreferrer" className="underline">
            Pull request
          </a>
        ) : null}
        {task.progress ? <span data-testid="session-progress">Progress: {task.progress}</span> : null}
        {task.children.length > 0 ? (
          <span data-testid="session-subtasks">
            {task.children.filter((c) => c.status === "completed").length}/{task.children.length} subtasks completed
          </span>
        ) : null}
      </div>
      {task.failureReason ? (
        <p
          role="alert"
          data-testid="session-failure"
          className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
        >
          {/* A stop the user asked for is not the agent failing. */}
          <span className="font-semibold">
            {task.failureReason.startsWith("stopped by user") ? "Stopped:" : "Failed:"}
          </span>{" "}
          {task.failureReason}
        </p>
      ) : null}
      {aside}
    </header>
  );
}
