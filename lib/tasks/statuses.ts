import type { TaskStatus } from "@/db/schema";

export const TERMINAL_STATUSES = ["completed", "failed", "cancelled"] as const satisfies readonly TaskStatus[];
/** Statuses that hold a place on a node (a workspace and possibly a live session). */
export const ON_NODE_STATUSES = [
  "provisioning",
  "running",
  "awaiting_followup",
  "awaiting_subtasks",
  "awaiting_input",
] as const satisfies readonly TaskStatus[];
/**
 * Statuses of a task whose session is alive on its node and takes messages (the inbox delivers to
 * them; a message to a waiting task is its next turn).
 */
export const LIVE_SESSION_STATUSES = [
  "running",
  "awaiting_followup",
  "awaiting_subtasks",
  "awaiting_input",
] as const satisfies readonly TaskStatus[];
/**
 * Statuses whose agent is idle, waiting on someone else: they hold a session but no share of a
 * node's capacity, or a tree could starve its own children of a place to run.
 */
export const WAITING_STATUSES = ["awaiting_subtasks", "awaiting_input"] as const satisfies readonly TaskStatus[];
/** Statuses that count against the dispatch limits. */
export const ACTIVE_STATUSES = ["queued", ...ON_NODE_STATUSES] as const satisfies readonly TaskStatus[];

export function isTerminal(status: TaskStatus): boolean {
  return (TERMINAL_STATUSES as readonly TaskStatus[]).includes(status);
}

/**
 * Whether a task's view still has news to wait for: the task or one of its subtasks has not ended,
 * or it is a failed subtask not yet retried whose parent lives (Retry is offered until the parent
 * ends, and the page must learn of that end). One rule for the server's feed and the browser's.
 */
export function viewHasNews(task: {
  status: TaskStatus;
  childrenActive: boolean;
  retried: boolean;
  parentStatus: TaskStatus | null;
}): boolean {
  if (!isTerminal(task.status) || task.childrenActive) return true;
  return task.status === "failed" && !task.retried && task.parentStatus !== null && !isTerminal(task.parentStatus);
}
