import type { TaskStatus } from "@/db/schema";

/** The states the sidebar filters groups by. A group is a root task with everything under it. */
export const SIDEBAR_FILTERS = ["all", "active", "blocked", "failed", "done"] as const;
export type SidebarFilter = (typeof SIDEBAR_FILTERS)[number];

/** What the whole tree of a group holds, which the filters and the card's warnings read. */
export interface GroupFlags {
  /** Some task of the tree has not ended (queued, starting, running or waiting for follow-up). */
  active: boolean;
  /** Some queued task of the tree waits on a dependency that has not completed. */
  blocked: boolean;
  /** Some task of the tree failed and was not replaced by a retry. */
  failed: boolean;
}

/**
 * Whether a group belongs under a filter. The loader's SQL (`filterCondition`) selects the same
 * groups; the live sidebar uses this to keep or drop a group whose state just changed.
 */
export function groupMatches(filter: SidebarFilter, group: { status: TaskStatus; flags: GroupFlags }): boolean {
  switch (filter) {
    case "all":
      return true;
    case "active":
      return group.flags.active;
    case "blocked":
      return group.flags.blocked;
    case "failed":
      return group.flags.failed;
    case "done":
      return !group.flags.active && (group.status === "completed" || group.status === "cancelled");
  }
}

/**
 * Whether a group's title or one of its subtasks' titles contains the sidebar's search text (any
 * case). The loader's SQL (`queryCondition`) selects the same groups.
 */
export function groupMatchesQuery(query: string, group: { title: string; children: { title: string }[] }): boolean {
  const q = query.trim().toLowerCase();
  if (q === "") return true;
  return group.title.toLowerCase().includes(q) || group.children.some((c) => c.title.toLowerCase().includes(q));
}
