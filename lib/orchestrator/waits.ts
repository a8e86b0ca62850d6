import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { newId } from "../ids";
import { LIVE_SESSION_STATUSES, TERMINAL_STATUSES } from "../tasks/statuses";
import { parseInput } from "../validation";
import { deliverInbox } from "./inbox";

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);
const liveList = sql.join(
  LIVE_SESSION_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

export const waitForSubtasksSchema = z
  .object({
    taskIds: z
      .array(z.string().min(1, { message: "A task id is empty" }).max(200))
      .min(1, { message: "taskIds names no subtask; leave it out to wait for all of them" })
      .max(500)
      .optional(),
    until: z.enum(["all", "any"], { message: 'until is "all" or "any"' }).default("all"),
    timeoutSeconds: z
      .number()
      .int({ message: "The timeout is a whole number of seconds" })
      .min(1, { message: "The timeout is 1 to 86400 seconds" })
      .max(86_400, { message: "The timeout is 1 to 86400 seconds" })
      .optional(),
  })
  .strict();

/**
 * A child still on its way: not ended, or completed with a branch whose pull request is not
 * recorded yet (its end is told with its PR, recorded just after the move). `c` is the child's row.
 */
const PENDING = sql`(c.status NOT IN (${terminalList}) OR (c.status = 'completed' AND c.mode = 'task'
  AND c.branch IS NOT NULL AND c.pull_request_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM pull_requests p WHERE p.task_id = c.id)))`;
/** The children the open wait `task_waits` is about. */
const WAITED = sql`c.parent_id = task_waits.task_id
  AND (task_waits.task_ids IS NULL OR c.id IN (SELECT value FROM json_each(task_waits.task_ids)))`;
/** The wait's condition: all its children ended, or any one did (or it names none still on its way). */
const CONDITION = sql`(CASE WHEN task_waits.until = 'all'
  THEN NOT EXISTS (SELECT 1 FROM tasks c WHERE ${WAITED} AND ${PENDING})
  ELSE (EXISTS (SELECT 1 FROM tasks c WHERE ${WAITED} AND NOT ${PENDING})
    OR NOT EXISTS (SELECT 1 FROM tasks c WHERE ${WAITED} AND ${PENDING})) END)`;

/** One child as its parent is told of it. */
export interface ChildOutcome {
  taskId: string;
  title: string;
  status: string;
  ended: boolean;
  summary: string | null;
  failureReason: string | null;
  branch: string | null;
  pullRequest: { number: number; url: string } | null;
}

async function childOutcomes(db: Db, parentId: string): Promise<ChildOutcome[]> {
  const rows = await db.all<{
    taskId: string;
    title: string;
    status: string;
    summary: string | null;
    failureReason: string | null;
    branch: string | null;
    prNumber: number | null;
    prUrl: string | null;
  }>(sql`
    SELECT c.id AS taskId, c.title AS title, c.status AS status, c.summary AS summary,
      c.failure_reason AS failureReason, c.branch AS branch, p.number AS prNumber,
      coalesce(p.url, '/projects/' || p.project_id || '/pulls/' || p.number) AS prUrl
    FROM tasks c LEFT JOIN pull_requests p ON p.task_id = c.id OR p.id = c.pull_request_id
    WHERE c.parent_id = ${parentId}
    ORDER BY c.created_at, c.rowid`);
  return rows.map((r) => ({
    taskId: r.taskId,
    title: r.title,
    status: r.status,
    ended: TERMINAL_STATUSES.includes(r.status as never),
    summary: r.summary,
    failureReason: r.failureReason,
    branch: r.branch,
    pullRequest: r.prNumber === null || r.prUrl === null ? null : { number: Number(r.prNumber), url: r.prUrl },
  }));
}

function describeOutcome(child: ChildOutcome): string {
  const head = `- "${child.title}" (${child.taskId}): `;
  if (!child.ended) return `${head}still ${child.status === "queued" ? "queued" : "running"} (${child.status})`;
  const parts = [`${head}${child.status}.`];
  if (child.summary) parts.push(`Summary: ${child.summary}`);
  if (child.failureReason) parts.push(`Reason: ${child.failureReason}`);
  if (child.branch) parts.push(`Branch: ${child.branch}`);
  else if (child.status === "completed") parts.push("No changes: no branch was pushed.");
  if (child.pullRequest) parts.push(`Pull request: #${child.pullRequest.number} (${child.pullRequest.url})`);
  return parts.join(" ");
}

/**
 * The ended children's own end messages are folded into the one that lists them: marked delivered
 * without being sent (those of children still running are sent when they end).
 */
function foldEnded(parentId: string, outcomes: ChildOutcome[]) {
  const ended = outcomes.filter((c) => c.ended).map((c) => sql`${c.taskId}`);
  if (ended.length === 0) return sql`SELECT 0 WHERE 0`;
  return sql`UPDATE inbox_messages SET delivered_at = ${NOW}
    WHERE task_id = ${parentId} AND kind = 'child_ended' AND delivered_at IS NULL
      AND sender_task_id IN (${sql.join(ended, sql`, `)})`;
}

/**
 * Resolves the parent's open wait if its condition holds or its deadline passed. Invariant: a wait
 * resolves once — the guarded UPDATE decides, so two children ending at once give one wake. Returns
 * the resolution, or undefined when the wait stays open (or there is none).
 */
async function resolveWait(db: Db, parentId: string): Promise<"condition" | "timeout" | undefined> {
  const [resolved] = await db.all<{ resolution: "condition" | "timeout" }>(sql`
    UPDATE task_waits SET resolved_at = ${NOW},
      resolution = CASE WHEN ${CONDITION} THEN 'condition' ELSE 'timeout' END
    WHERE task_id = ${parentId} AND resolved_at IS NULL AND (${CONDITION} OR deadline_at <= ${NOW})
    RETURNING resolution`);
  return resolved?.resolution;
}

/** Resolves the parent's open wait if it is due, and sends its one wake with every child's outcome. */
async function settleWait(db: Db, parentId: string): Promise<boolean> {
  const resolution = await resolveWait(db, parentId);
  if (!resolution) return false;
  const outcomes = await childOutcomes(db, parentId);
  const why =
    resolution === "condition"
      ? "the subtasks you waited for have ended"
      : "the timeout of your wait passed; some subtasks are still running";
  const body = [`Your wait for subtasks is over: ${why}. Your subtasks:`, ...outcomes.map(describeOutcome)].join("\n");
  await db.batch([
    db.run(foldEnded(parentId, outcomes)),
    db.run(
      sql`INSERT INTO inbox_messages (id, task_id, kind, body) VALUES (${newId()}, ${parentId}, 'child_ended', ${body})`,
    ),
  ]);
  return true;
}

/**
 * A child has ended: its parent's open wait resolves if it is due, and the parent's inbox goes out
 * (a child's end wakes it unless a wait holds it).
 */
export async function wakeParent(db: Db, childId: string): Promise<void> {
  const [child] = await db.all<{ parentId: string | null }>(
    sql`SELECT parent_id AS parentId FROM tasks WHERE id = ${childId}`,
  );
  if (!child?.parentId) return;
  await settleWait(db, child.parentId);
  await deliverInbox(db, child.parentId);
}

/** The scheduler's share: open waits of live tasks whose condition holds (missed) or deadline passed. */
export async function settleOpenWaits(db: Db): Promise<void> {
  const rows = await db.all<{ taskId: string }>(sql`
    SELECT w.task_id AS taskId FROM task_waits w JOIN tasks t ON t.id = w.task_id
    WHERE w.resolved_at IS NULL AND t.status IN (${liveList})
    LIMIT 200`);
  for (const row of rows) if (await settleWait(db, row.taskId)) await deliverInbox(db, row.taskId);
}

export type WaitAnswer =
  | { waiting: false; children: ChildOutcome[] }
  | { waiting: true; message: string; taskIds: string[] | null; until: "all" | "any"; deadlineAt: string | null };

/**
 * wait_for_subtasks: if the condition holds now, answers with every child's outcome. Otherwise the
 * wait is recorded (one open wait per task: a second call replaces the first's terms) and the agent
 * ends its turn; it is woken once, with every child's outcome, when the condition holds or the
 * timeout passes. The wait is recorded before the condition is checked, so a child ending meanwhile
 * is never missed: either this check or that child's end resolves it.
 */
export async function waitForSubtasks(
  db: Db,
  parentId: string,
  input: z.input<typeof waitForSubtasksSchema>,
): Promise<WaitAnswer> {
  const args = parseInput(waitForSubtasksSchema, input);
  const children = await db.all<{ id: string }>(sql`SELECT id FROM tasks WHERE parent_id = ${parentId}`);
  if (args.taskIds) {
    const own = new Set(children.map((c) => c.id));
    const strangers = [...new Set(args.taskIds)].filter((id) => !own.has(id));
    if (strangers.length > 0) {
      throw new SamError(
        "invalid_input",
        `Not subtasks of yours: ${strangers.join(", ")}; wait only for tasks you dispatched`,
      );
    }
  }
  const taskIds = args.taskIds ? JSON.stringify([...new Set(args.taskIds)]) : null;
  const deadline = args.timeoutSeconds === undefined ? null : Date.now() + args.timeoutSeconds * 1000;
  const replaced = await db.run(sql`
    UPDATE task_waits SET task_ids = ${taskIds}, until = ${args.until}, deadline_at = ${deadline}, created_at = ${NOW}
    WHERE task_id = ${parentId} AND resolved_at IS NULL`);
  if (replaced.rowsAffected === 0) {
    await db.run(sql`
      INSERT INTO task_waits (id, task_id, task_ids, until, deadline_at)
      VALUES (${newId()}, ${parentId}, ${taskIds}, ${args.until}, ${deadline})`);
  }
  const [now] = await db.all<{ id: string }>(sql`
    UPDATE task_waits SET resolved_at = ${NOW}, resolution = 'condition'
    WHERE task_id = ${parentId} AND resolved_at IS NULL AND ${CONDITION}
    RETURNING id`);
  if (now) {
    const outcomes = await childOutcomes(db, parentId);
    await db.run(foldEnded(parentId, outcomes));
    return { waiting: false, children: outcomes };
  }
  return {
    waiting: true,
    message:
      "End your turn now. You will be woken once, with every subtask's outcome in one message, " +
      `when ${args.until === "all" ? "all of them have" : "one of them has"} ended` +
      `${deadline === null ? "" : ` or after ${args.timeoutSeconds} seconds`}.`,
    taskIds: args.taskIds ? [...new Set(args.taskIds)] : null,
    until: args.until,
    deadlineAt: deadline === null ? null : new Date(deadline).toISOString(),
  };
}
