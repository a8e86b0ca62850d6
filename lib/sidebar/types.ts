import type { TaskMode, TaskStatus } from "@/db/schema";
import type { UsageTotals } from "../usage/task-usage";
import type { GroupFlags, SidebarFilter } from "./filters";

/** A child of a group, as its row in an expanded card shows it. Times are epoch milliseconds. */
export interface SidebarChild {
  id: string;
  rootId: string;
  parentId: string;
  title: string;
  status: TaskStatus;
  mode: TaskMode;
  failureReason: string | null;
  /** Titles of the unfinished tasks this queued child waits on (empty when it is not blocked). */
  blockedByTitles: string[];
  /** How many tasks this child dispatched itself. */
  subCount: number;
  /** How many of those have not ended, while it waits for them (awaiting_subtasks); else 0. */
  waitingOn: number;
  createdAt: number;
  updatedAt: number;
}

/** A root task (one session) with the state of its direct children, without the children. */
export interface SidebarGroupSummary {
  id: string;
  sessionId: string | null;
  title: string;
  mode: TaskMode;
  status: TaskStatus;
  failureReason: string | null;
  branch: string | null;
  createdAt: number;
  updatedAt: number;
  childCount: number;
  /** How many children have not ended, while the root waits for them (awaiting_subtasks); else 0. */
  waitingOn: number;
  childStatusCounts: Partial<Record<TaskStatus, number>>;
  /**
   * Completed children out of those that count: a cancelled child and a failed one replaced by a
   * retry are left out, so a finished group reaches total/total.
   */
  progress: { completed: number; total: number };
  flags: GroupFlags;
  /** The whole tree's token usage and cost; null before any turn reported usage. */
  usage: UsageTotals | null;
}

export interface SidebarGroup extends SidebarGroupSummary {
  children: SidebarChild[];
}

/** How many groups are active, blocked and failed in the whole project. */
export interface FilterCounts {
  active: number;
  blocked: number;
  failed: number;
}

export interface SidebarPage {
  filter: SidebarFilter;
  /** The search text the page is narrowed by (empty: none). */
  query: string;
  groups: SidebarGroup[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
  counts: FilterCounts;
  /** The change cursor the page was read at: a live stream started from it misses nothing. */
  changesAfter: number;
}

/** One batch of live changes: fresh groups, each to replace the one with its id. */
export interface SidebarChanges {
  cursor: number;
  groups: SidebarGroup[];
  counts: FilterCounts;
}
