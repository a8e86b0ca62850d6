import { type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { TaskStatus } from "@/db/schema";
import { SamError } from "../errors";
import { emitIdeasChanged, emitTaskChanged } from "../events/bus";
import { ideaOutcomeStatement } from "../ideas/task-outcome";
import { newId } from "../ids";
import { notifyTaskEnded } from "../notifications/task-notifications";
import { isTerminal, TERMINAL_STATUSES } from "./statuses";

/** The reason every descendant of a task that ended failed or cancelled is stopped with. */
export const PARENT_ENDED = "parent ended";

export interface Actor {
  kind: "user" | "task" | "system" | "node";
  id?: string;
}

/** Columns a transition may set along with the status. */
export interface TransitionFields {
  /** Null when a task completes having changed nothing: no branch was pushed. */
  branch?: string | null;
  prUrl?: string;
  summary?: string;
  failureReason?: string;
  nodeId?: string | null;
  workspaceId?: string | null;
  baseBranch?: string;
}

export interface TransitionInput {
  taskId: string;
  from: readonly TaskStatus[];
  to: TaskStatus;
  actor: Actor;
  reason?: string;
  set?: TransitionFields;
  /** A further condition on the task row (`tasks`), part of the same guarded statement. */
  guard?: SQL;
  /**
   * A statement written with the move and only if it applies: it gets the move's condition on the
   * task row (`FROM tasks WHERE <condition>`), checked in the same write transaction.
   */
  alongside?: (condition: SQL) => SQL;
}

const COLUMN_OF: Record<keyof TransitionFields, string> = {
  branch: "branch",
  prUrl: "pr_url",
  summary: "summary",
  failureReason: "failure_reason",
  nodeId: "node_id",
  workspaceId: "workspace_id",
  baseBranch: "base_branch",
};

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);
const NOTHING = sql`SELECT 0 WHERE 0`;

/**
 * The one way a task's status changes. The move happens only if the task is in one of `from`, and
 * the event log gets exactly one row for it: every statement carries the same guard and they run in
 * one write transaction. Returns whether this call made the move.
 */
export async function transitionTask(db: Db, input: TransitionInput): Promise<boolean> {
  if (input.from.length === 0) throw new SamError("internal", "A transition needs at least one source status");
  const fromList = sql.join(
    input.from.map((s) => sql`${s}`),
    sql`, `,
  );
  const where = sql`id = ${input.taskId} AND status IN (${fromList})${input.guard ? sql` AND (${input.guard})` : sql``}`;
  const terminal = isTerminal(input.to);
  const sets = [sql`status = ${input.to}`, sql`updated_at = ${NOW}`];
  for (const [key, value] of Object.entries(input.set ?? {}) as [keyof TransitionFields, string | null][]) {
    if (value !== undefined) sets.push(sql`${sql.raw(COLUMN_OF[key])} = ${value}`);
  }
  if (input.to === "running") sets.push(sql`started_at = coalesce(started_at, ${NOW})`);
  if (terminal) sets.push(sql`ended_at = ${NOW}`);

  const childEnded =
    input.to === "failed"
      ? " Tasks that depend on it stay queued until you retry it (retry_subtask) or remove them."
      : "";
  const ideaOutcome = ideaOutcomeStatement(input.taskId, input.to, { unchanged: input.set?.branch === null });
  const [, , , , update, , ideaRows] = await db.batch([
    // Invariant: one event row per status change; written only when the guarded UPDATE applies.
    db.run(sql`
      INSERT INTO task_events (task_id, from_status, to_status, actor_kind, actor_id, reason)
      SELECT id, status, ${input.to}, ${input.actor.kind}, ${input.actor.id ?? null}, ${input.reason ?? null}
      FROM tasks WHERE ${where}`),
    // When a child ends its parent is told through its durable inbox, under the same guard: once.
    db.run(
      terminal
        ? sql`
          INSERT INTO inbox_messages (id, task_id, sender_task_id, kind, body)
          SELECT ${newId()}, parent_id, id, 'child_ended',
            'Subtask "' || title || '" (' || id || ') ended: ' || ${input.to}
            || coalesce(' Summary: ' || coalesce(${input.set?.summary ?? null}, summary), '')
            || coalesce(' Reason: ' || coalesce(${input.set?.failureReason ?? null}, failure_reason), '')
            || ${
              input.set?.branch === null
                ? sql`' No changes: no branch was pushed.'`
                : sql`coalesce(' Branch: ' || coalesce(${input.set?.branch ?? null}, branch), '')`
            }
            || ${childEnded}
          FROM tasks WHERE ${where} AND parent_id IS NOT NULL`
        : NOTHING,
    ),
    db.run(input.alongside?.(where) ?? NOTHING),
    // Invariant: when a task ends failed or cancelled, each of its live descendants gets one stop
    // (`parent ended`), recorded with the end itself; the stop protocol carries them out (a queued
    // one is cancelled, a running one warned, given the grace and stopped).
    db.run(
      input.to === "failed" || input.to === "cancelled"
        ? sql`
          UPDATE tasks SET stop_requested_at = ${NOW}, stop_reason = ${PARENT_ENDED}, stop_ends = 0,
            stop_grace_seconds = (SELECT p.stop_grace_seconds FROM projects p WHERE p.id = tasks.project_id),
            updated_at = ${NOW}
          WHERE id IN (
              WITH RECURSIVE descendants(id) AS (
                SELECT c.id FROM tasks c WHERE c.parent_id = ${input.taskId}
                UNION SELECT c.id FROM tasks c JOIN descendants d ON c.parent_id = d.id)
              SELECT id FROM descendants)
            AND stop_requested_at IS NULL AND status NOT IN (${terminalList})
            AND EXISTS (SELECT 1 FROM tasks WHERE ${where})`
        : NOTHING,
    ),
    // Invariant: a status moves only from an expected status (no lost or doubled transitions).
    db.run(sql`UPDATE tasks SET ${sql.join(sets, sql`, `)} WHERE ${where}`),
    // A task's tokens die with it.
    db.run(
      terminal
        ? sql`
          UPDATE tokens SET revoked_at = ${NOW}
          WHERE task_id = ${input.taskId} AND kind = 'task' AND revoked_at IS NULL
            AND (SELECT status FROM tasks WHERE id = ${input.taskId}) = ${input.to}`
        : NOTHING,
    ),
    // An idea executed into this task follows its outcome (Invariant: only the idea's latest task, once).
    db.all<{ id: string; projectId: string }>(ideaOutcome ?? NOTHING),
  ]);
  const moved = update.rowsAffected === 1;
  if (moved) await notifyTaskEnded(db, input.taskId, input.to);
  if (moved) emitTaskChanged({ taskId: input.taskId, status: input.to });
  for (const idea of ideaRows as { projectId?: string }[]) {
    if (idea.projectId) emitIdeasChanged({ projectId: idea.projectId });
  }
  return moved;
}
