import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { humanRequests, tasks, users } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { newId } from "../ids";
import { notify } from "../notifications/notify";
import { clip } from "../notifications/task-notifications";
import { sendMessageToSubtask } from "../orchestrator/send-message";
import { userControllerFor } from "../orchestrator/user-controller";
import { parseInput } from "../validation";
import { getTaskForUser } from "./show-task";
import { TERMINAL_STATUSES } from "./statuses";
import { transitionTask } from "./transition";

export const requestHumanInputSchema = z
  .object({
    question: z
      .string()
      .trim()
      .min(1, { message: "The question is empty" })
      .max(4_000, { message: "The question is longer than 4,000 characters" }),
    options: z
      .array(
        z
          .string()
          .trim()
          .min(1, { message: "An option is empty" })
          .max(200, { message: "An option is longer than 200 characters" }),
      )
      .min(1, { message: "Give at least one option, or leave options out for a free answer" })
      .max(10, { message: "At most 10 options" })
      .refine((options) => new Set(options).size === options.length, { message: "The options must be distinct" })
      .optional(),
  })
  .strict();

/** A question as the chat and the API show it. */
export interface HumanRequestJson {
  id: string;
  taskId: string;
  question: string;
  options: string[] | null;
  createdAt: Date;
  answer: string | null;
  answeredAt: Date | null;
  answeredBy: string | null;
}

async function openRequestOf(db: Db, taskId: string) {
  return db.query.humanRequests.findFirst({
    where: and(eq(humanRequests.taskId, taskId), isNull(humanRequests.answeredAt)),
  });
}

function alreadyAsking(open: { id: string; question: string }): SamError {
  return new SamError(
    "conflict",
    `You already asked a question that is not answered yet (${open.id}: "${clip(open.question, 200)}"). ` +
      "Ask one question at a time: end your turn; the answer arrives as your next message.",
    { requestId: open.id },
  );
}

/**
 * A running task-mode task asks a person: it moves to `awaiting_input` with its question written
 * alongside (one guarded batch: both happen or neither), and the project's members get a
 * high-urgency notification. One open question per task; the answer resumes the same session.
 */
export async function requestHumanInput(
  db: Db,
  caller: { taskId: string; projectId: string },
  input: unknown,
): Promise<{ requestId: string; status: "awaiting_input"; message: string }> {
  const { question, options } = parseInput(requestHumanInputSchema, input);
  const task = await db.query.tasks.findFirst({ where: eq(tasks.id, caller.taskId) });
  if (!task) throw new SamError("not_found", "The task of this token no longer exists");
  if (task.mode !== "task") {
    throw new SamError("conflict", "In a conversation the person reads your reply: ask there, then end your turn");
  }
  const open = await openRequestOf(db, task.id);
  if (open) throw alreadyAsking(open);

  const requestId = newId();
  let moved: boolean;
  try {
    moved = await transitionTask(db, {
      taskId: task.id,
      from: ["running"],
      to: "awaiting_input",
      actor: { kind: "task", id: task.id },
      reason: "asked a person",
      // A task being stopped has no time to wait for an answer.
      guard: sql`stop_requested_at IS NULL`,
      alongside: (condition) => sql`
        INSERT INTO human_requests (id, task_id, question, options)
        SELECT ${requestId}, id, ${question}, ${options ? JSON.stringify(options) : null}
        FROM tasks WHERE ${condition}`,
    });
  } catch (err) {
    // Invariant (unique index): one open question per task; a concurrent ask lost the race.
    const raced = await openRequestOf(db, task.id);
    if (raced) throw alreadyAsking(raced);
    throw err;
  }
  if (!moved) {
    const raced = await openRequestOf(db, task.id);
    if (raced) throw alreadyAsking(raced);
    const now = await db.query.tasks.findFirst({
      where: eq(tasks.id, task.id),
      columns: { status: true, stopRequestedAt: true },
    });
    throw new SamError(
      "conflict",
      now?.stopRequestedAt
        ? "The task is being stopped; it cannot wait for an answer"
        : `The task is ${now?.status ?? "gone"}, not running; only a running task asks`,
    );
  }

  await notify(db, {
    kind: "needs_input",
    projectId: task.projectId,
    taskId: task.id,
    title: `Needs your answer: ${clip(task.title, 120)}`,
    body: clip(options ? `${question}\nOptions: ${options.join(" / ")}` : question),
    urgency: "high",
    dedupKey: `needs_input:${requestId}`,
  }).catch((err: unknown) =>
    console.error(`sam: could not notify the question of task ${task.id}: ${(err as Error).message}`),
  );
  return {
    requestId,
    status: "awaiting_input",
    message:
      "Your question is posted and the project's people are told. End your turn now; do nothing else meanwhile. " +
      "The answer will arrive as your next message, in this same session.",
  };
}

/** The task's questions, oldest first, for a member of its project. */
export async function listHumanRequests(db: Db, userId: string, taskId: string): Promise<HumanRequestJson[]> {
  const task = await getTaskForUser(db, userId, taskId);
  const rows = await db
    .select({ request: humanRequests, answeredBy: users.name })
    .from(humanRequests)
    .leftJoin(users, eq(users.id, humanRequests.answeredByUserId))
    .where(eq(humanRequests.taskId, task.id))
    .orderBy(asc(humanRequests.createdAt), asc(humanRequests.id));
  return rows.map(({ request, answeredBy }) => ({
    id: request.id,
    taskId: request.taskId,
    question: request.question,
    options: request.options ? (JSON.parse(request.options) as string[]) : null,
    createdAt: request.createdAt,
    answer: request.answer,
    answeredAt: request.answeredAt,
    answeredBy: request.answeredAt ? (answeredBy ?? "someone") : null,
  }));
}

const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/** What the agent reads: its question, briefly, then the answer. */
export function answerMessage(question: string, answer: string): string {
  return `Answer to your question "${clip(question, 200)}":\n\n${answer}`;
}

/**
 * A project member answers a task's open question: it is marked answered (once: of two answers at
 * the same time one wins, the other is refused), then the answer goes to the task's session as a
 * user message through its inbox, like any message to a task, and wakes the same session.
 */
export async function answerHumanRequest(
  db: Db,
  userId: string,
  taskId: string,
  input: { requestId: string; answer: string },
) {
  const { controller, task } = await userControllerFor(db, userId, taskId);
  // Invariant: a question is answered once, and only while its task has not ended.
  const [answered] = await db.all<{ question: string; answeredAt: number }>(sql`
    UPDATE human_requests
    SET answer = ${input.answer}, answered_by_user_id = ${userId}, answered_at = cast(unixepoch('subsec') * 1000 as integer)
    WHERE id = ${input.requestId} AND task_id = ${task.id} AND answered_at IS NULL
      AND (SELECT status FROM tasks WHERE id = ${task.id}) NOT IN (${terminalList})
    RETURNING question, answered_at AS answeredAt`);
  if (!answered) {
    const request = await db.query.humanRequests.findFirst({
      where: and(eq(humanRequests.id, input.requestId), eq(humanRequests.taskId, task.id)),
    });
    if (!request) throw new SamError("not_found", "This task has no such question");
    if (request.answeredAt) {
      throw new SamError("conflict", "This question has already been answered", { reason: "already_answered" });
    }
    const now = await db.query.tasks.findFirst({ where: eq(tasks.id, task.id), columns: { status: true } });
    throw new SamError("conflict", `The task has ended (${now?.status}); it takes no answer`, { reason: "task_ended" });
  }
  emitTaskChanged({ taskId: task.id });
  const sent = await sendMessageToSubtask(db, controller, {
    taskId: task.id,
    message: answerMessage(answered.question, input.answer),
  });
  return { requestId: input.requestId, answeredAt: new Date(Number(answered.answeredAt)), ...sent };
}
