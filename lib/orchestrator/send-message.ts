import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { chatSessions, inboxMessages, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { newId } from "../ids";
import { TERMINAL_STATUSES } from "../tasks/statuses";
import { appendMessage, userMessageSchema } from "../tasks/user-messages";
import { parseInput } from "../validation";
import { type Controller, requireControllable } from "./authorize";
import { deliverInbox } from "./inbox";
import { userControllerFor } from "./user-controller";

export const sendMessageSchema = z
  .object({
    taskId: z.string().min(1, { message: "A task id is required" }).max(200),
    message: z
      .string()
      .min(1, { message: "The message is empty" })
      .max(32_768, { message: "The message is longer than 32,768 characters" })
      .refine((text) => text.trim().length > 0, { message: "The message is empty" }),
  })
  .strict();

/** `messageId` is what the session's `user_message` event will carry when the agent receives it. */
export type SendMessageResult = { messageId: string } & ({ delivered: true } | { delivered: false; queued: true });

const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/**
 * A message from a controller to a child's session. It is written to the child's durable inbox
 * first, then handed to the child's daemon right away if the child runs; when that is not possible
 * (the child has not started, its daemon did not answer) it waits in the inbox, and the scheduler's
 * pass delivers it, once, as soon as the session can take it.
 */
export async function sendMessageToSubtask(
  db: Db,
  controller: Controller,
  input: z.input<typeof sendMessageSchema>,
): Promise<SendMessageResult> {
  const { taskId, message } = parseInput(sendMessageSchema, input);
  const child = await requireControllable(db, controller, taskId, "message");
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, child.id) });
  if (!session) throw new SamError("internal", `Task ${child.id} has no chat session`);

  const id = newId();
  const sender = controller.kind === "task" ? controller.taskId : controller.userId;
  // Invariant: the inbox takes messages only for a task that has not ended (it would never read them).
  const written = await db.run(sql`
    INSERT INTO inbox_messages (id, task_id, sender_task_id, sender_user_id, kind, body)
    SELECT ${id}, id, ${controller.kind === "task" ? sender : null}, ${controller.kind === "user" ? sender : null},
      'message', ${message}
    FROM tasks WHERE id = ${child.id} AND status NOT IN (${terminalList})`);
  if (written.rowsAffected === 0) {
    const now = await db.query.tasks.findFirst({ where: eq(tasks.id, child.id), columns: { status: true } });
    throw new SamError(
      "conflict",
      `Task ${child.id} has already ended (${now?.status ?? child.status}); it takes no more messages`,
    );
  }
  await appendMessage(db, session.id, {
    role: "user",
    authorKind: controller.kind === "task" ? "parent" : "user",
    authorId: sender,
    content: message,
  });
  // Open views of the task show the message, pending, at once.
  emitTaskChanged({ taskId: child.id });

  // Everything that waits for this child goes in order, this message last; another pass may have
  // delivered it meanwhile, so the row says whether it arrived.
  await deliverInbox(db, child.id);
  const row = await db.query.inboxMessages.findFirst({
    where: eq(inboxMessages.id, id),
    columns: { deliveredAt: true },
  });
  return row?.deliveredAt ? { messageId: id, delivered: true } : { messageId: id, delivered: false, queued: true };
}

/**
 * A user's message to a task's session (the API, the CLI): members act as the project's owner, and
 * the message goes through the same durable inbox as an agent's, so one to a session that has not
 * started, or whose node does not answer right now, waits and is delivered once.
 */
export async function sendUserMessage(db: Db, userId: string, taskId: string, input: unknown) {
  const { text } = parseInput(userMessageSchema, input);
  const { controller } = await userControllerFor(db, userId, taskId);
  return sendMessageToSubtask(db, controller, { taskId, message: text });
}
