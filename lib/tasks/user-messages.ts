import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { newId } from "../ids";

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
