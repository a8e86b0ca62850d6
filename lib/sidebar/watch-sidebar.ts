import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { onTaskChanged } from "../events/bus";
import { followOtherInstances } from "../events/other-instances";
import { getProjectForUser } from "../projects/projects";
import { wakeable } from "../tasks/watch-task";
import { filterCounts, inList, loadGroups } from "./load-sidebar";
import type { SidebarChanges } from "./types";

export interface WatchSidebarOptions {
  /** The change cursor (epoch ms) the watcher is up to date with: a page's `changesAfter` or a last event id. */
  after: number;
  signal: AbortSignal;
  pollMs?: number;
}

/**
 * How far before the cursor each poll looks again. A change is stamped when its statement runs, so
 * one stamped a moment earlier can commit after a later one was read (another writer, another
 * process); rows in this window are read again and sent only if they differ from what was sent.
 */
export const LOOKBACK_MS = 5000;

/**
 * A project's sidebar as it changes: every change to the project's tasks, sessions and dependency
 * edges after `after`, as the fresh groups (with their children) to put in place of the old ones. The database is polled (it is the truth, shared by
 * every instance and written by other processes); this process's change hints only wake the poll
 * early. Sending a group twice is harmless, so a resumed stream errs on the side of sending again.
 * The feed ends when the signal aborts or the user is no longer a member of the project.
 */
export async function* watchSidebar(
  db: Db,
  userId: string,
  projectId: string,
  { after, signal, pollMs = 300 }: WatchSidebarOptions,
): AsyncGenerator<SidebarChanges> {
  const wakeUp = wakeable(signal);
  // A hint carries no project, and a poll is three index range reads: any hint wakes it.
  const unsubscribe = onTaskChanged(() => wakeUp.wake());
  const unfollow = followOtherInstances(db);
  let cursor = after;
  // What was last sent for each changed row still inside the lookback window.
  const sent = new Map<string, string>();
  try {
    while (!signal.aborted) {
      if (!(await isMember(db, userId, projectId))) return;
      const since = Math.max(0, cursor - LOOKBACK_MS);
      const changes = await changedSince(db, projectId, since);
      const changedTasks = new Set<string>();
      for (const change of changes) {
        if (sent.get(change.key) !== change.version) changedTasks.add(change.taskId);
        sent.set(change.key, change.version);
        cursor = Math.max(cursor, change.at);
      }
      const horizon = cursor - LOOKBACK_MS;
      for (const change of changes) if (change.at < horizon) sent.delete(change.key);
      if (changedTasks.size > 0) yield await changesAround(db, projectId, [...changedTasks], cursor);
      await wakeUp.sleep(pollMs);
    }
  } finally {
    unfollow();
    unsubscribe();
  }
}

async function isMember(db: Db, userId: string, projectId: string): Promise<boolean> {
  try {
    await getProjectForUser(db, userId, projectId);
    return true;
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") return false;
    throw err;
  }
}

interface Change {
  key: string;
  /** What the row looks like now; a row whose version was already sent is not sent again. */
  version: string;
  taskId: string;
  at: number;
}

/** Task rows, session rows and dependency edges of the project stamped at or after `since`. */
async function changedSince(db: Db, projectId: string, since: number): Promise<Change[]> {
  const [taskRows, sessionRows, edgeRows] = await Promise.all([
    db.all<{ id: string; at: number; status: string }>(sql`
      SELECT id, updated_at AS at, status FROM tasks WHERE project_id = ${projectId} AND updated_at >= ${since}`),
    db.all<{ task_id: string; at: number; title: string }>(sql`
      SELECT task_id, updated_at AS at, title FROM chat_sessions
      WHERE project_id = ${projectId} AND updated_at >= ${since}`),
    // An edge added to a waiting task (add_dependency) leaves the task's row as it was.
    db.all<{ task_id: string; depends_on_task_id: string; at: number }>(sql`
      SELECT d.task_id, d.depends_on_task_id, d.created_at AS at
      FROM task_dependencies d JOIN tasks t ON t.id = d.task_id
      WHERE t.project_id = ${projectId} AND d.created_at >= ${since}`),
  ]);
  return [
    // Two writes in one millisecond share a stamp; the status tells them apart.
    ...taskRows.map((r) => ({ key: `task:${r.id}`, version: `${r.at}:${r.status}`, taskId: r.id, at: r.at })),
    ...sessionRows.map((r) => ({
      key: `session:${r.task_id}`,
      version: `${r.at}:${r.title}`,
      taskId: r.task_id,
      at: r.at,
    })),
    ...edgeRows.map((r) => ({
      key: `edge:${r.task_id}:${r.depends_on_task_id}`,
      version: String(r.at),
      taskId: r.task_id,
      at: r.at,
    })),
  ];
}

/**
 * Fresh groups for everything the changed tasks show up in: their own group, with its progress,
 * flags and children (a child's status, its count of subtasks, what blocks it), and the groups of
 * the tasks waiting on them.
 */
async function changesAround(db: Db, projectId: string, changed: string[], cursor: number): Promise<SidebarChanges> {
  const ids = inList(changed);
  const roots = await db.all<{ root_id: string }>(sql`
    SELECT DISTINCT t.root_id FROM tasks t
    WHERE t.id IN ${ids} OR t.id IN (SELECT task_id FROM task_dependencies WHERE depends_on_task_id IN ${ids})`);
  const [groups, counts] = await Promise.all([
    loadGroups(
      db,
      projectId,
      roots.map((r) => r.root_id),
    ),
    filterCounts(db, projectId),
  ]);
  return { cursor, groups, counts };
}
