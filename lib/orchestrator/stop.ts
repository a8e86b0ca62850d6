import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { chatSessions, nodes, projects, type TaskStatus, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { daemonClient, daemonTargetOf } from "../nodes/daemon-client";
import { isTerminal, LIVE_SESSION_STATUSES, TERMINAL_STATUSES } from "../tasks/statuses";
import { type Actor, PARENT_ENDED, transitionTask } from "../tasks/transition";
import { appendMessage } from "../tasks/user-messages";
import { parseInput } from "../validation";
import { type Controller, requireControllable } from "./authorize";

export const stopSubtaskSchema = z
  .object({
    taskId: z.string().min(1, { message: "A task id is required" }).max(200),
    reason: z.string().trim().min(1, { message: "The reason is empty" }).max(1000).optional(),
    graceSeconds: z
      .number()
      .int({ message: "The grace period is a whole number of seconds" })
      .min(0, { message: "The grace period is 0 to 30 seconds" })
      .max(30, { message: "The grace period is 0 to 30 seconds" })
      .optional(),
  })
  .strict();

export interface StopResult {
  stopping: true;
  graceSeconds: number;
  reason: string;
  /** True when a stop was already under way; this call changed nothing. */
  alreadyStopping?: true;
}

/** A task with its recorded stop (the three stop columns are always written together). */
interface StoppingTask {
  id: string;
  status: TaskStatus;
  mode: "task" | "conversation";
  nodeId: string | null;
  stopReason: string;
  stopGraceSeconds: number;
  /** A user ending their conversation rather than a stop (see `endConversation`). */
  stopEnds: number | boolean;
}

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);
const liveList = sql.join(
  LIVE_SESSION_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/**
 * What the agent is told when its recorded stop is carried out: the transcript shows the same words,
 * worked out again from the task's stop columns.
 */
export function stopWarningOf(task: {
  mode: "task" | "conversation";
  stopReason: string;
  stopGraceSeconds: number;
  stopEnds: number | boolean;
}): string {
  const seconds = `${task.stopGraceSeconds} second${task.stopGraceSeconds === 1 ? "" : "s"}`;
  if (task.stopEnds) {
    return `The user is ending this conversation; it closes in ${seconds}. Nothing is saved or pushed.`;
  }
  if (task.mode === "conversation") {
    return `You are being stopped (${task.stopReason}). This conversation ends in ${seconds}. Nothing is saved or pushed.`;
  }
  return (
    `You are being stopped (${task.stopReason}). Your session ends in ${seconds}. ` +
    "Commit the work you have now (git add -A && git commit); whatever is still uncommitted then is committed " +
    "and pushed for you, and the task is marked failed with this reason."
  );
}

/**
 * Hands a recorded stop to the daemon that runs the task's session. The daemon then owns the rest
 * of the protocol (warning, grace, hard stop, saving the work in task mode, `session_finished` failed
 * with the reason), so once it has accepted the stop a restart of the web app cannot lose it. A stop the
 * daemon did not take stays undelivered, and the scheduler's pass sends it again.
 */
async function sendStop(db: Db, task: StoppingTask): Promise<void> {
  const [node, session] = await Promise.all([
    task.nodeId ? db.query.nodes.findFirst({ where: eq(nodes.id, task.nodeId) }) : undefined,
    db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) }),
  ]);
  const target = node && daemonTargetOf(db, node);
  if (!target || !session) return;
  const ends = Boolean(task.stopEnds);
  const warning = stopWarningOf(task);
  try {
    await daemonClient.stop(target, session.id, {
      warning,
      graceMs: task.stopGraceSeconds * 1000,
      reason: task.stopReason,
      ...(ends ? { end: true } : {}),
    });
  } catch {
    // Unreachable, or the session is not there yet: the scheduler's pass tries again.
    return;
  }
  // Invariant: a stop is acknowledged once; only the call that records it puts the warning in the chat.
  const marked = await db.run(
    sql`UPDATE tasks SET stop_delivered_at = ${NOW} WHERE id = ${task.id} AND stop_delivered_at IS NULL`,
  );
  if (marked.rowsAffected === 1) {
    await appendMessage(db, session.id, { role: "system", authorKind: "system", content: warning });
    emitTaskChanged({ taskId: task.id });
  }
}

/**
 * Carries out a recorded stop as far as the task's state allows. A task that has not started (queued,
 * or still being provisioned) ends at once: its start never moves it to running once a stop is
 * recorded, and releases the workspace it was making. A running or waiting one gets the stop at its
 * daemon.
 */
async function carryOutStop(db: Db, task: StoppingTask, actor: Actor): Promise<void> {
  if (task.status === "queued" || task.status === "provisioning") {
    // A conversation ended before it started, or a task whose parent ended, is cancelled; a stopped task fails.
    const cancels = Boolean(task.stopEnds) || task.stopReason === PARENT_ENDED;
    const ended = await transitionTask(db, {
      taskId: task.id,
      from: [task.status],
      to: cancels ? "cancelled" : "failed",
      actor,
      reason: task.stopReason,
      set: cancels ? {} : { failureReason: task.stopReason },
    });
    // Moved on meanwhile (claimed, or started before the stop was recorded): stopped on a later pass.
    if (ended) return;
  }
  // A waiting task's session is idle: the stop ends it (and its end stops its children).
  if ((LIVE_SESSION_STATUSES as readonly TaskStatus[]).includes(task.status)) await sendStop(db, task);
}

/**
 * Stops a child: the stop is recorded on the task first, in one guarded UPDATE, so it survives a
 * restart of the web app; then it is carried out (see `carryOutStop`). A second stop while one is
 * under way changes nothing and answers with the stop in progress. The reason the task fails with
 * says who stopped it: `stopped by parent: …` or `stopped by user: …`.
 */
export async function stopSubtask(
  db: Db,
  controller: Controller,
  input: z.input<typeof stopSubtaskSchema>,
): Promise<StopResult> {
  const args = parseInput(stopSubtaskSchema, input);
  const child = await requireControllable(db, controller, args.taskId, "stop");
  return recordStop(db, controller, child, { ...args, ends: false });
}

export const endConversationSchema = z.object({ taskId: z.string().min(1).max(200) }).strict();

/**
 * A user ends their conversation. It is carried out like a stop (recorded first, resent until the
 * daemon takes it, the agent warned and given the grace), but it saves and pushes nothing and the
 * conversation completes: a conversation never pushes, and ending it is not a failure.
 */
export async function endConversation(
  db: Db,
  controller: Controller,
  input: z.input<typeof endConversationSchema>,
): Promise<StopResult> {
  const { taskId } = parseInput(endConversationSchema, input);
  const task = await requireControllable(db, controller, taskId, "end");
  if (task.mode !== "conversation") {
    throw new SamError("conflict", `Task ${task.id} is a task, not a conversation; stop it instead`);
  }
  return recordStop(db, controller, task, { taskId, reason: "ended by the user", ends: true });
}

async function recordStop(
  db: Db,
  controller: Controller,
  child: { id: string; projectId: string; status: TaskStatus },
  args: { taskId: string; reason?: string; graceSeconds?: number; ends: boolean },
): Promise<StopResult> {
  const project = await db.query.projects.findFirst({
    where: eq(projects.id, child.projectId),
    columns: { stopGraceSeconds: true },
  });
  if (!project) throw new SamError("not_found", `The project of task ${child.id} no longer exists`);
  const graceSeconds = args.graceSeconds ?? project.stopGraceSeconds;
  const reason = `stopped by ${controller.kind === "task" ? "parent" : "user"}: ${args.reason ?? "no reason given"}`;

  // Invariant: a task gets at most one stop, and only while it has not ended.
  const [recorded] = await db.all<StoppingTask>(sql`
    UPDATE tasks SET stop_requested_at = ${NOW}, stop_reason = ${reason}, stop_grace_seconds = ${graceSeconds},
      stop_ends = ${args.ends ? 1 : 0}, updated_at = ${NOW}
    WHERE id = ${child.id} AND stop_requested_at IS NULL AND status NOT IN (${terminalList})
    RETURNING id, status, mode, node_id AS nodeId, stop_reason AS stopReason, stop_grace_seconds AS stopGraceSeconds,
      stop_ends AS stopEnds`);
  if (!recorded) {
    const now = await db.query.tasks.findFirst({ where: eq(tasks.id, child.id) });
    if (now?.stopReason && now.stopGraceSeconds !== null && !isTerminal(now.status)) {
      return { stopping: true, graceSeconds: now.stopGraceSeconds, reason: now.stopReason, alreadyStopping: true };
    }
    throw new SamError(
      "conflict",
      `Task ${child.id} has already ended (${now?.status ?? child.status}); there is nothing to stop`,
    );
  }
  const actor: Actor =
    controller.kind === "task" ? { kind: "task", id: controller.taskId } : { kind: "user", id: controller.userId };
  await carryOutStop(db, recorded, actor);
  return { stopping: true, graceSeconds, reason };
}

/**
 * The scheduler's share of the stop protocol: every recorded stop the task's daemon has not yet
 * accepted is carried out — a stop whose daemon call failed, one recorded on a started task before
 * its session took messages, the `parent ended` stops recorded with a parent's end, one interrupted by
 * a restart of the web app. A resent stop gives the agent the full grace period, since its warning
 * never reached it.
 */
export async function resendPendingStops(db: Db): Promise<void> {
  const pending = await db.all<StoppingTask>(sql`
    SELECT id, status, mode, node_id AS nodeId, stop_reason AS stopReason, stop_grace_seconds AS stopGraceSeconds,
      stop_ends AS stopEnds
    FROM tasks
    WHERE stop_requested_at IS NOT NULL AND stop_delivered_at IS NULL
      AND status IN ('queued', 'provisioning', ${liveList})
    LIMIT 200`);
  await Promise.all(pending.map((task) => carryOutStop(db, task, { kind: "system" })));
}
