import { LocalTime } from "./LocalTime";
import { TaskStatusBadge } from "./TaskStatusBadge";
import type { TaskJson } from "./task-json";

/** The task's status changes, oldest first, with who made each and why. */
export function TaskTimeline({ history }: { history: TaskJson["history"] }) {
  return (
    <ol className="space-y-3" data-testid="task-timeline">
      {history.map((h) => (
        <li key={h.id} className="border-l-2 border-zinc-200 pl-3 text-sm dark:border-zinc-800">
          <div className="flex flex-wrap items-center gap-2">
            <TaskStatusBadge status={h.to} />
            <span className="text-xs text-zinc-600 dark:text-zinc-400">
              by {h.actor} · <LocalTime at={h.at} dateToo />
            </span>
          </div>
          {h.reason ? (
            <p className="mt-1 whitespace-pre-wrap break-words text-zinc-700 dark:text-zinc-300">{h.reason}</p>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
