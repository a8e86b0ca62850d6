import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { emitTaskChanged } from "../events/bus";
import { daemonClient, daemonTargetOf } from "../nodes/daemon-client";
import { LIVE_SESSION_STATUSES } from "../tasks/statuses";
import { appendMessage } from "../tasks/user-messages";

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
const liveList = sql.join(
  LIVE_SESSION_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/** One undelivered inbox row whose task has a live session, with what it takes to reach that session. */
interface Deliverable {
  id: string;
  taskId: string;
  kind: "message" | "stop_warning" | "child_ended" | "system";
  body: string;
  senderUserId: string | null;
  sessionId: string;
  nodeId: string;
  nodeProvider: "local" | "joined" | "hetzner";
  nodeUrl: string | null;
  tokenCiphertext: string | null;
}

/**
 * The durable inbox: messages for a task's session that wait until the session can take them.
 *
 * A row is delivered when its task's session is alive on a node (running or waiting): it is injected with
 * the row's id as the message id, and marked delivered only after the daemon accepted it. The daemon
 * acknowledges a message id it has seen without delivering it again, so a pass that crashes between
 * the two steps, or two passes that overlap, still deliver each row once. Rows of one task go in the
 * order they were written, and a failure stops that task's rows for this pass, so none overtakes
 * another.
 *
 * A child's end is held back while its parent waits for several at once (wait_for_subtasks), while
 * its pull request is being recorded, and for good once the parent completed abandoning its children.
 *
 * Rows of a task that has ended are never delivered (its session takes nothing more). They stay as
 * the record of what did not reach it; the query below only looks at tasks on a node, so they cost
 * nothing.
 */
async function deliverable(db: Db, taskId?: string): Promise<Deliverable[]> {
  return db.all<Deliverable>(sql`
    SELECT m.id AS id, m.task_id AS taskId, m.kind AS kind, m.sender_user_id AS senderUserId,
      -- A child's end carries its pull request, recorded just after the end itself.
      m.body || coalesce(' Pull request: #' || p.number || ' ('
        || coalesce(p.url, '/projects/' || p.project_id || '/pulls/' || p.number) || ')', '') AS body,
      s.id AS sessionId, n.id AS nodeId, n.provider AS nodeProvider, n.url AS nodeUrl, n.token_ciphertext AS tokenCiphertext
    FROM nodes n
    JOIN tasks t ON t.node_id = n.id AND t.status IN (${liveList})
    JOIN inbox_messages m ON m.task_id = t.id AND m.delivered_at IS NULL
    JOIN chat_sessions s ON s.task_id = t.id
    LEFT JOIN tasks c ON c.id = m.sender_task_id AND m.kind = 'child_ended'
    LEFT JOIN pull_requests p ON p.task_id = c.id OR p.id = c.pull_request_id
    WHERE (n.url IS NOT NULL OR n.provider <> 'local') AND n.status NOT IN ('lost', 'destroyed')
      AND NOT (m.kind = 'child_ended' AND (
        -- The agent completed, abandoning its children: its turn's end finishes it, unwoken.
        t.complete_requested_at IS NOT NULL
        -- A wait is open: its one wake tells of every child (see waits.ts).
        OR (c.id IS NOT NULL AND EXISTS (SELECT 1 FROM task_waits w WHERE w.task_id = t.id AND w.resolved_at IS NULL))
        -- Completed with a branch: told once its pull request is recorded.
        OR (c.status = 'completed' AND c.mode = 'task' AND c.branch IS NOT NULL AND c.pull_request_id IS NULL
          AND p.id IS NULL)))
      ${taskId === undefined ? sql`` : sql`AND t.id = ${taskId}`}
    ORDER BY m.created_at, m.rowid
    LIMIT 500`);
}

/** Hands one row to its session's daemon; false when the daemon did not take it (it stays pending). */
async function deliver(db: Db, row: Deliverable): Promise<boolean> {
  try {
    const target = daemonTargetOf(db, {
      id: row.nodeId,
      provider: row.nodeProvider,
      url: row.nodeUrl,
      tokenCiphertext: row.tokenCiphertext,
    });
    if (!target) return false;
    await daemonClient.injectMessage(target, row.sessionId, {
      messageId: row.id,
      text: row.body,
      // A message comes from the parent task, or from the project's user acting on the task; the
      // rest (a child's end) is SAM telling the agent.
      source: row.kind === "message" ? (row.senderUserId ? "user" : "parent") : "system",
    });
  } catch {
    // Unreachable, or the session has just ended: the row waits for a later pass.
    return false;
  }
  // Invariant: a row is marked delivered once; only the pass that marks it adds it to the chat.
  const marked = await db.run(
    sql`UPDATE inbox_messages SET delivered_at = ${NOW} WHERE id = ${row.id} AND delivered_at IS NULL`,
  );
  // A message was put in the chat when it was sent; what SAM says appears as it reaches the agent.
  if (marked.rowsAffected === 1 && row.kind !== "message") {
    await appendMessage(db, row.sessionId, { role: "system", authorKind: "system", content: row.body });
  }
  if (marked.rowsAffected === 1) emitTaskChanged({ taskId: row.taskId });
  return true;
}

/** Delivers what waits in the inbox to every session that can take it now (or only to `taskId`'s). */
export async function deliverInbox(db: Db, taskId?: string): Promise<void> {
  const byTask = new Map<string, Deliverable[]>();
  for (const row of await deliverable(db, taskId)) {
    const rows = byTask.get(row.taskId);
    if (rows) rows.push(row);
    else byTask.set(row.taskId, [row]);
  }
  await Promise.all(
    [...byTask.values()].map(async (rows) => {
      for (const row of rows) if (!(await deliver(db, row))) return;
    }),
  );
}
