import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { chatSessions, nodes } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { daemonClient } from "../nodes/daemon-client";
import { nodeTokenOf } from "../nodes/node-tokens";
import { parseInput } from "../validation";
import { getTaskForUser } from "./show-task";

export const userMessageSchema = z
  .object({
    text: z
      .string()
      .trim()
      .min(1, { message: "The message is empty" })
      .max(32_768, { message: "The message is longer than 32,768 characters" }),
  })
  .strict();

/** Appends a message to a session with the next sequence number (the unique index settles races). */
export async function appendMessage(
  db: Db,
  sessionId: string,
  message: {
    role: "user" | "assistant" | "system";
    authorKind: "user" | "agent" | "parent" | "system";
    authorId?: string;
    content: string;
  },
): Promise<{ id: string; seq: number }> {
  for (let attempt = 0; ; attempt++) {
    const id = newId();
    try {
      // Invariant: messages of a session are numbered 1, 2, 3… without gaps or repeats.
      const rows = await db.all<{ seq: number }>(sql`
        INSERT INTO messages (id, session_id, seq, role, author_kind, author_id, content)
        SELECT ${id}, ${sessionId}, coalesce(max(seq), 0) + 1, ${message.role}, ${message.authorKind},
          ${message.authorId ?? null}, ${message.content}
        FROM messages WHERE session_id = ${sessionId}
        RETURNING seq`);
      return { id, seq: Number(rows[0]?.seq) };
    } catch (err) {
      if (attempt >= 20 || !/UNIQUE/i.test(String((err as Error).message ?? err) + String((err as Error).cause ?? "")))
        throw err;
    }
  }
}

/**
 * A user's follow-up to a running or waiting session: stored, then handed to the session's daemon,
 * which starts a turn with it (or queues it behind the current turn).
 */
export async function sendUserMessage(db: Db, userId: string, taskId: string, input: unknown) {
  const { text } = parseInput(userMessageSchema, input);
  const task = await getTaskForUser(db, userId, taskId);
  if (task.status !== "running" && task.status !== "awaiting_followup") {
    throw new SamError("conflict", `The task is ${task.status}; only a running or waiting session takes messages`);
  }
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
  const node = task.nodeId ? await db.query.nodes.findFirst({ where: eq(nodes.id, task.nodeId) }) : undefined;
  if (!session || !node?.url) throw new SamError("conflict", "The task has no live session");
  const message = await appendMessage(db, session.id, {
    role: "user",
    authorKind: "user",
    authorId: userId,
    content: text,
  });
  const result = await daemonClient.injectMessage({ url: node.url, token: nodeTokenOf(node) }, session.id, {
    messageId: message.id,
    text,
    source: "user",
  });
  return { messageId: message.id, seq: message.seq, ...result };
}
