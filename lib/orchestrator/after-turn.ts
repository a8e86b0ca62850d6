import { eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, nodes, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { daemonClient, daemonTargetOf } from "../nodes/daemon-client";
import { TERMINAL_STATUSES } from "../tasks/statuses";
import { transitionTask } from "../tasks/transition";
import { deliverInbox } from "./inbox";

const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/**
 * A task still has work coming: a child that has not ended, or a message that has not reached it
 * yet (a child's end, a user's message). `task` is the task's id column.
 */
export function hasWorkComing(task: SQL): SQL {
  return sql`(EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = ${task} AND c.status NOT IN (${terminalList}))
    OR EXISTS (SELECT 1 FROM inbox_messages m WHERE m.task_id = ${task} AND m.delivered_at IS NULL))`;
}

/** Asks the task's daemon to save, push and end its idle session; it completes on `session_finished`. */
async function finishSession(db: Db, taskId: string, nodeId: string | null): Promise<void> {
  const [node, session] = await Promise.all([
    nodeId ? db.query.nodes.findFirst({ where: eq(nodes.id, nodeId) }) : undefined,
    db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) }),
  ]);
  const target = node && daemonTargetOf(db, node);
  if (!target || !session) return;
  try {
    await daemonClient.finish(target, session.id);
  } catch (err) {
    // Busy: a message started a turn, whose end decides again. Unreachable: the scheduler's pass retries.
    if (SamError.is(err) && err.details?.daemonCode === "session_busy") return;
    if (SamError.is(err) && err.code === "unavailable") return;
    throw err;
  }
}

/**
 * The one decision after a task-mode turn ends normally. A task waiting for a person's answer stays
 * so. One with children that have not ended, or messages on their way, waits for them
 * (`awaiting_subtasks`): each of those wakes it with a turn of its own. Otherwise — or when the agent
 * called complete_task — its session is finished and the task completes with it. Safe to repeat:
 * the ingest and the scheduler's pass both call it.
 */
export async function afterTurn(db: Db, taskId: string): Promise<void> {
  const task = await db.query.tasks.findFirst({
    where: eq(tasks.id, taskId),
    columns: { status: true, mode: true, completeRequestedAt: true, nodeId: true, stopRequestedAt: true },
  });
  if (task?.mode !== "task" || (task.status !== "running" && task.status !== "awaiting_subtasks")) return;
  // A stop under way ends the session itself.
  if (task.stopRequestedAt) return;
  if (!task.completeRequestedAt) {
    // Invariant: a task waits for its subtasks only while work is coming to it (checked in the move).
    const waits = await transitionTask(db, {
      taskId,
      from: ["running"],
      to: "awaiting_subtasks",
      actor: { kind: "system" },
      guard: hasWorkComing(sql`tasks.id`),
    });
    const [now] = await db.all<{ status: string; busy: number }>(
      sql`SELECT status, ${hasWorkComing(sql`tasks.id`)} AS busy FROM tasks WHERE id = ${taskId}`,
    );
    if (now?.status !== "running" && now?.status !== "awaiting_subtasks") return;
    if (waits || now.busy) {
      // What is already there wakes it now.
      await deliverInbox(db, taskId);
      return;
    }
  }
  await finishSession(db, taskId, task.nodeId);
}

/**
 * The scheduler's share: task-mode sessions idle after a turn whose task is still running (a finish
 * that did not reach the daemon) or waiting with nothing left to wait for (a child removed before it
 * started) are decided again.
 */
export async function retryAfterTurns(db: Db): Promise<void> {
  const rows = await db.all<{ id: string }>(sql`
    SELECT t.id AS id FROM tasks t JOIN chat_sessions s ON s.task_id = t.id
    WHERE t.mode = 'task' AND s.state = 'awaiting_followup' AND t.stop_requested_at IS NULL
      AND (t.status = 'running' OR (t.status = 'awaiting_subtasks' AND NOT ${hasWorkComing(sql`t.id`)}))
    LIMIT 200`);
  await Promise.all(rows.map((row) => afterTurn(db, row.id)));
}
