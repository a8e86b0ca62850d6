import type { TaskStatus } from "@/db/schema";

const LABEL: Record<TaskStatus, string> = {
  queued: "queued",
  provisioning: "provisioning",
  running: "running",
  awaiting_followup: "awaiting follow-up",
  awaiting_subtasks: "awaiting subtasks",
  awaiting_input: "needs input",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

const STYLE: Record<TaskStatus, string> = {
  queued: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  provisioning: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
  running: "bg-blue-100 text-blue-800 dark:bg-blue-950 dark:text-blue-300",
  awaiting_followup: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-300",
  awaiting_subtasks: "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-300",
  awaiting_input: "bg-fuchsia-100 text-fuchsia-900 dark:bg-fuchsia-950 dark:text-fuchsia-300",
  completed: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  failed: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  cancelled: "bg-zinc-200 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-400",
};

const BLOCKED_STYLE = "bg-orange-100 text-orange-900 dark:bg-orange-950 dark:text-orange-300";

/** A status's colours (background and text classes); a queued task waiting on dependencies is orange. */
export function statusStyle(status: TaskStatus, blocked = false): string {
  return blocked && status === "queued" ? BLOCKED_STYLE : STYLE[status];
}

/** A status as people read it; a queued task waiting on dependencies reads "blocked". */
export function statusLabel(status: TaskStatus, blocked = false): string {
  return blocked && status === "queued" ? "blocked" : LABEL[status];
}

/** A task's status as a coloured pill; a queued task waiting on dependencies reads "blocked". */
export function TaskStatusBadge({ status, blocked = false }: { status: TaskStatus; blocked?: boolean }) {
  return (
    <span
      data-status={status}
      className={`inline-flex shrink-0 items-center rounded-full px-2 py-0.5 text-xs font-medium ${statusStyle(status, blocked)}`}
    >
      {statusLabel(status, blocked)}
    </span>
  );
}
