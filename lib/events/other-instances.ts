import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { emitIdeasChanged, emitNotificationsChanged, emitPullChanged, emitTaskChanged } from "./bus";

/**
 * Changes made by other processes (other web app instances on the same libSQL server, the `sam` CLI)
 * as this process's change hints. While at least one live view of this process follows them, one
 * loop reads a handful of cursors every POLL_MS, in one statement of index or small-table reads, and
 * turns what moved into bus events, so the views wake at once instead of at their own slower polls.
 * Hints only, like every bus event: a view still polls the database, which is the truth, so a
 * change this misses (a row stamped before the cursor but committed after it) is only later.
 */
const POLL_MS = 250;

interface Cursors {
  taskEvent: number;
  agentEvent: number;
  idea: number;
  pull: number;
  comment: number;
  notification: number;
}

interface Follow {
  followers: number;
  running: boolean;
}

const globalForFollow = globalThis as unknown as { __samFollowOthers?: Follow };
globalForFollow.__samFollowOthers ??= { followers: 0, running: false };
const follow = globalForFollow.__samFollowOthers;

/** Starts hearing other processes' changes (if nobody in this process does yet); call the result to stop. */
export function followOtherInstances(db: Db): () => void {
  follow.followers++;
  if (!follow.running) {
    follow.running = true;
    void pollWhileFollowed(db).finally(() => {
      follow.running = false;
      // Someone started following just as the loop decided to stop.
      if (follow.followers > 0) followOtherInstances(db)();
    });
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    follow.followers--;
  };
}

async function pollWhileFollowed(db: Db): Promise<void> {
  let cursors: Cursors | undefined;
  let failing = false;
  while (follow.followers > 0) {
    try {
      const next = await readCursors(db);
      if (cursors) await announce(db, cursors, next);
      cursors = next;
      failing = false;
    } catch (err) {
      // The views poll on their own meanwhile; say so once, not every quarter second.
      if (!failing) console.warn(`sam: cannot follow other instances' changes: ${(err as Error).message}`);
      failing = true;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function readCursors(db: Db): Promise<Cursors> {
  const [row] = await db.all<Cursors>(sql`
    SELECT
      (SELECT coalesce(max(id), 0) FROM task_events) AS taskEvent,
      (SELECT coalesce(max(rowid), 0) FROM agent_events) AS agentEvent,
      (SELECT coalesce(max(updated_at), 0) FROM ideas) AS idea,
      (SELECT coalesce(max(updated_at), 0) FROM pull_requests) AS pull,
      (SELECT coalesce(max(rowid), 0) FROM pull_request_comments) AS comment,
      (SELECT coalesce(max(updated_at), 0) FROM notification_events) AS notification`);
  const n = (v: unknown) => Number(v ?? 0);
  return {
    taskEvent: n(row?.taskEvent),
    agentEvent: n(row?.agentEvent),
    idea: n(row?.idea),
    pull: n(row?.pull),
    comment: n(row?.comment),
    notification: n(row?.notification),
  };
}

/** Reads what moved past the old cursors and emits it; the reads are bounded by the cursors' indexes. */
async function announce(db: Db, was: Cursors, now: Cursors): Promise<void> {
  const reads: Promise<void>[] = [];
  if (now.taskEvent > was.taskEvent || now.agentEvent > was.agentEvent) {
    reads.push(
      db
        .all<{ taskId: string; status: string | null }>(sql`
          SELECT e.task_id AS taskId, t.status AS status FROM task_events e JOIN tasks t ON t.id = e.task_id
          WHERE e.id > ${was.taskEvent} AND e.id <= ${now.taskEvent}
          UNION
          SELECT s.task_id AS taskId, NULL AS status FROM agent_events a JOIN chat_sessions s ON s.id = a.session_id
          WHERE a.rowid > ${was.agentEvent} AND a.rowid <= ${now.agentEvent}`)
        .then((rows) => {
          for (const taskId of new Set(rows.map((r) => r.taskId))) emitTaskChanged({ taskId });
        }),
    );
  }
  if (now.idea > was.idea) {
    reads.push(
      db
        .all<{ projectId: string }>(
          sql`SELECT DISTINCT project_id AS projectId FROM ideas WHERE updated_at > ${was.idea}`,
        )
        .then((rows) => {
          for (const { projectId } of rows) emitIdeasChanged({ projectId });
        }),
    );
  }
  if (now.pull > was.pull || now.comment > was.comment) {
    reads.push(
      db
        .all<{ projectId: string; pullRequestId: string }>(sql`
          SELECT project_id AS projectId, id AS pullRequestId FROM pull_requests WHERE updated_at > ${was.pull}
          UNION
          SELECT p.project_id, p.id FROM pull_request_comments c JOIN pull_requests p ON p.id = c.pull_request_id
          WHERE c.rowid > ${was.comment} AND c.rowid <= ${now.comment}`)
        .then((rows) => {
          for (const change of rows) emitPullChanged(change);
        }),
    );
  }
  if (now.notification > was.notification) {
    reads.push(
      db
        .all<{ seq: number; projectId: string; userIds: string | null }>(sql`
          SELECT e.seq AS seq, e.project_id AS projectId, group_concat(n.user_id) AS userIds
          FROM notification_events e JOIN notifications n ON n.event_seq = e.seq
          WHERE e.updated_at > ${was.notification} GROUP BY e.seq`)
        .then((rows) => {
          for (const r of rows) {
            emitNotificationsChanged({ seq: r.seq, projectId: r.projectId, userIds: (r.userIds ?? "").split(",") });
          }
        }),
    );
  }
  await Promise.all(reads);
}
