"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { TaskQuestions } from "@/components/chat/HumanInputCard";
import { PullRequestLink } from "@/components/pulls/PullRequestLink";
import { LocalTime } from "./LocalTime";
import { PlacementWaitNote } from "./PlacementWaitNote";
import { TaskChildren } from "./TaskChildren";
import { TaskControls } from "./TaskControls";
import { TaskEventLog } from "./TaskEventLog";
import { TaskMessageBox } from "./TaskMessageBox";
import { TaskStatusBadge } from "./TaskStatusBadge";
import { TaskTimeline } from "./TaskTimeline";
import { TaskUsage } from "./TaskUsage";
import { controlStates } from "./task-controls-state";
import type { AgentEventJson, TaskJson } from "./task-json";
import { type StreamState, useTaskStream } from "./use-task-stream";

const STREAM_LABEL: Record<StreamState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Finished",
  lost: "Live updates stopped; reload the page",
};

function Panel({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <section data-testid={testId} className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <h2 className="mb-3 font-medium">{title}</h2>
      {children}
    </section>
  );
}

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd data-testid={testId} className="break-all font-mono text-sm">
        {children}
      </dd>
    </div>
  );
}

/** Another task, named by its title (its id is in the link and in a tooltip). */
function TaskLink({ projectId, task }: { projectId: string; task: { id: string; title: string } }) {
  return (
    <Link href={`/projects/${projectId}/tasks/${task.id}`} title={task.id} className="break-words font-sans underline">
      {task.title}
    </Link>
  );
}

/** Links only to web pages: a PR URL comes from an agent and must not become a script link. */
function safeHttpUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** A task's page, kept current by its event stream. */
export function TaskLiveView({
  projectId,
  initialTask,
  initialEvents,
  graceSeconds,
}: {
  projectId: string;
  initialTask: TaskJson;
  initialEvents: AgentEventJson[];
  /** The project's stop grace period. */
  graceSeconds?: number;
}) {
  const { task, events, state, messages } = useTaskStream(initialTask, initialEvents);
  const prHref = task.prUrl ? safeHttpUrl(task.prUrl) : undefined;
  const message = controlStates(task).message;
  const stopped = task.failureReason?.startsWith("stopped by ") ?? false;

  return (
    <div className="space-y-6">
      <header className="space-y-3">
        <div className="flex flex-wrap items-center gap-2">
          <h1 className="min-w-0 break-words text-2xl font-semibold tracking-tight">{task.title}</h1>
          <span data-testid="task-status">
            <TaskStatusBadge status={task.status} blocked={task.blockedBy.length > 0} />
          </span>
          <span className="rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-800">{task.mode}</span>
          <span
            data-testid="stream-state"
            data-state={state}
            className={`ml-auto text-xs ${state === "live" ? "text-emerald-700 dark:text-emerald-400" : "text-zinc-600 dark:text-zinc-400"}`}
          >
            {STREAM_LABEL[state]}
          </span>
        </div>
        <dl className="grid grid-cols-1 gap-x-6 gap-y-3 rounded-lg border border-zinc-200 p-4 sm:grid-cols-2 dark:border-zinc-800">
          {/* A conversation saves and pushes nothing: it has no branch worth naming. */}
          {task.mode === "task" ? (
            <>
              <Fact label="Branch" testId="task-branch">
                {task.branch ?? (task.status === "completed" ? "None: the task changed nothing" : "—")}
              </Fact>
              <Fact label="Base">{task.baseBranch ?? "the project's default branch"}</Fact>
            </>
          ) : null}
          {task.pullRequest ? (
            <Fact label="Pull request">
              <span className="font-sans">
                <PullRequestLink projectId={projectId} pullRequest={task.pullRequest} />
              </span>
            </Fact>
          ) : task.prUrl ? (
            <Fact label="Pull request">
              {prHref ? (
                <a href={prHref} target="_blank" rel="noreferrer noopener" className="underline">
                  {task.prUrl}
                </a>
              ) : (
                task.prUrl
              )}
            </Fact>
          ) : null}
          <Fact label="Created">
            <LocalTime at={task.createdAt} dateToo />
          </Fact>
          {task.startedAt ? (
            <Fact label="Started">
              <LocalTime at={task.startedAt} dateToo />
            </Fact>
          ) : null}
          {task.endedAt ? (
            <Fact label="Ended">
              <LocalTime at={task.endedAt} dateToo />
            </Fact>
          ) : null}
          {task.parent ? (
            <Fact label="Parent task" testId="task-parent">
              <TaskLink projectId={projectId} task={task.parent} />
            </Fact>
          ) : null}
          {task.retryOf ? (
            <Fact label={`Retry ${task.retryCount} of`} testId="task-retry-of">
              <TaskLink projectId={projectId} task={task.retryOf} />
            </Fact>
          ) : null}
          {task.retriedAs ? (
            <Fact label="Retried as" testId="task-retried-as">
              <TaskLink projectId={projectId} task={task.retriedAs} />
            </Fact>
          ) : null}
        </dl>
        <TaskControls projectId={projectId} task={task} graceSeconds={graceSeconds} />
        {task.stopReason ? (
          <p
            role="status"
            data-testid="task-stopping"
            className="rounded-lg bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
          >
            Stopping ({task.stopReason}): the agent is saving its work.
          </p>
        ) : null}
        {task.failureReason ? (
          <div
            role="alert"
            data-testid="task-failure"
            className="rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
          >
            <div className="text-sm font-semibold">{stopped ? "Stopped" : "Failure reason"}</div>
            <p className="whitespace-pre-wrap break-words">{task.failureReason}</p>
          </div>
        ) : null}
        {task.blockedByTitles.length > 0 ? (
          <p
            data-testid="task-blocked"
            className="rounded-lg bg-orange-50 px-4 py-3 text-sm text-orange-900 dark:bg-orange-950 dark:text-orange-200"
          >
            BLOCKED: Waiting on {task.blockedByTitles.join(", ")}
          </p>
        ) : null}
        {task.status === "queued" && task.placementWait ? <PlacementWaitNote reason={task.placementWait} /> : null}
        {task.progress ? (
          <p
            data-testid="task-progress"
            className="rounded-lg bg-blue-50 px-4 py-3 text-sm text-blue-900 dark:bg-blue-950 dark:text-blue-200"
          >
            <span className="font-medium">Progress:</span> {task.progress}
          </p>
        ) : null}
        {task.summary ? (
          <div
            data-testid="task-summary"
            className="rounded-lg border border-emerald-300 px-4 py-3 dark:border-emerald-800"
          >
            <div className="text-sm font-semibold">Summary</div>
            <p className="whitespace-pre-wrap break-words text-sm">{task.summary}</p>
          </div>
        ) : null}
      </header>

      <div className="grid gap-6 md:grid-cols-[1fr_18rem]">
        <div className="min-w-0 space-y-6">
          <TaskQuestions taskId={task.id} status={task.status} version={task.history.length} />
          <Panel title="Prompt">
            <p data-testid="task-description" className="whitespace-pre-wrap break-words font-mono text-sm">
              {task.description}
            </p>
          </Panel>
          <Panel title="Agent activity" testId="task-activity">
            <TaskEventLog events={events} pending={messages} />
          </Panel>
          {message.enabled ? (
            <Panel title={task.mode === "conversation" ? "Reply" : "Message the agent"}>
              <TaskMessageBox projectId={projectId} taskId={task.id} waiting={task.status === "awaiting_followup"} />
            </Panel>
          ) : null}
        </div>
        <aside className="min-w-0 space-y-6">
          {task.children.length > 0 ? (
            <Panel title="Subtasks" testId="task-children">
              <TaskChildren projectId={projectId} items={task.children} />
            </Panel>
          ) : null}
          <Panel title="Usage" testId="task-usage">
            <TaskUsage usage={task.usage} hasChildren={task.children.length > 0} />
          </Panel>
          <Panel title="Status history">
            <TaskTimeline history={task.history} />
          </Panel>
        </aside>
      </div>
    </div>
  );
}
