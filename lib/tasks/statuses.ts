import type { TaskStatus } from "@/db/schema";

export const TERMINAL_STATUSES = ["completed", "failed", "cancelled"] as const satisfies readonly TaskStatus[];
/** Statuses that hold a place on a node (a workspace and possibly a live session). */
export const ON_NODE_STATUSES = [
  "provisioning",
  "running",
  "awaiting_followup",
] as const satisfies readonly TaskStatus[];
/** Statuses that count against the dispatch limits. */
export const ACTIVE_STATUSES = ["queued", ...ON_NODE_STATUSES] as const satisfies readonly TaskStatus[];

export function isTerminal(status: TaskStatus): boolean {
  return (TERMINAL_STATUSES as readonly TaskStatus[]).includes(status);
}
