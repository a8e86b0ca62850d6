import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { chatSessions, type TaskMode, users } from "@/db/schema";
import { SamError } from "../errors";
import { sendMessageToSubtask } from "../orchestrator/send-message";
import { userControllerFor } from "../orchestrator/user-controller";
import { createTaskInActiveProject } from "../tasks/create-task-in-active-project";
import { parseInput } from "../validation";
import { CHAT_MESSAGE_MAX } from "./message-limit";
import { getSessionForUser } from "./sessions";
import { lastEventSeq } from "./transcript";
import type { TurnTarget } from "./turn-stream";

export const chatMessageSchema = z
  .object({
    projectId: z.string().min(1, { message: "A project id is required" }).max(200),
    // Absent: the message starts a new session.
    sessionId: z.string().min(1).max(200).optional(),
    mode: z.enum(["conversation", "task"], { message: "Mode must be conversation or task" }),
    text: z
      .string()
      .trim()
      .min(1, { message: "The message is empty" })
      .max(CHAT_MESSAGE_MAX, {
        message: `The message is longer than ${CHAT_MESSAGE_MAX.toLocaleString("en")} characters`,
      }),
  })
  .strict();

export interface SentChatMessage {
  sessionId: string;
  taskId: string;
  mode: TaskMode;
  afterSeq: number;
  target: TurnTarget;
}

/**
 * A message from the project chat: a new session (a conversation or a task, as the composer's
 * toggle says) or a follow-up in an existing one. Returns what a stream needs to follow the reply.
 */
export async function sendChatMessage(db: Db, userId: string, input: unknown): Promise<SentChatMessage> {
  const { projectId, sessionId, mode, text } = parseInput(chatMessageSchema, input);
  if (sessionId) {
    const { session, task } = await getSessionForUser(db, userId, sessionId);
    if (session.projectId !== projectId) throw new SamError("not_found", "Session not found");
    // Read before sending, so the reply's events are all after it.
    const afterSeq = await lastEventSeq(db, session.id);
    // Through the session's durable inbox, as the task page sends: a message to a session that has
    // not started, or whose node does not answer right now, waits and is delivered once.
    const { controller } = await userControllerFor(db, userId, task.id, projectId);
    const sent = await sendMessageToSubtask(db, controller, { taskId: task.id, message: text });
    return {
      sessionId: session.id,
      taskId: task.id,
      mode: task.mode,
      afterSeq,
      target: { kind: "message", messageId: sent.messageId },
    };
  }
  const task = await createTaskInActiveProject(db, userId, { projectId, prompt: text, mode });
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
  if (!session) throw new Error("The new task has no session");
  await setChatMode(db, userId, mode);
  return { sessionId: session.id, taskId: task.id, mode, afterSeq: 0, target: { kind: "prompt" } };
}

export const chatModeSchema = z.enum(["conversation", "task"], { message: "Mode must be conversation or task" });

/** Remembers what the user's composer does on send. */
export async function setChatMode(db: Db, userId: string, input: unknown): Promise<TaskMode> {
  const mode = parseInput(chatModeSchema, input);
  await db.update(users).set({ chatMode: mode }).where(eq(users.id, userId));
  return mode;
}

export async function chatModeOf(db: Db, userId: string): Promise<TaskMode> {
  const row = await db.query.users.findFirst({ where: eq(users.id, userId), columns: { chatMode: true } });
  return row?.chatMode ?? "conversation";
}
