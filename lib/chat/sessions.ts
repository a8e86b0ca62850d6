import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions } from "@/db/schema";
import { SamError } from "../errors";
import { getTaskForUser, type TaskRow } from "../tasks/show-task";

export type ChatSession = typeof chatSessions.$inferSelect;

/** A session the user may see, with its task; anything else does not exist for them. */
export async function getSessionForUser(
  db: Db,
  userId: string,
  sessionId: string,
): Promise<{ session: ChatSession; task: TaskRow }> {
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.id, sessionId) });
  if (!session) throw new SamError("not_found", "Session not found");
  try {
    return { session, task: await getTaskForUser(db, userId, session.taskId) };
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") throw new SamError("not_found", "Session not found");
    throw err;
  }
}

export interface LatestTurn {
  /** The seq of the message run that started the session's latest turn. */
  startSeq: number;
  /** Whether the turn is over (a conversation's turn ended, or the session finished). */
  ended: boolean;
  lastSeq: number;
}

/** Where the session's latest turn starts and whether it is over; undefined before the first message. */
export async function latestTurn(db: Db, session: ChatSession): Promise<LatestTurn | undefined> {
  // A turn starts at a message whose previous event is not a message (messages queued together
  // start one turn).
  const [start] = await db.all<{ seq: number }>(sql`
    SELECT e.seq FROM agent_events e
    LEFT JOIN agent_events p ON p.session_id = e.session_id AND p.seq = e.seq - 1
    WHERE e.session_id = ${session.id} AND e.type = 'user_message'
      AND (p.type IS NULL OR p.type <> 'user_message')
    ORDER BY e.seq DESC LIMIT 1`);
  if (!start) return undefined;
  const ends = session.mode === "conversation" ? sql`('turn_ended', 'session_finished')` : sql`('session_finished')`;
  const [row] = await db.all<{ ended: number; lastSeq: number }>(sql`
    SELECT
      EXISTS (SELECT 1 FROM agent_events WHERE session_id = ${session.id} AND seq > ${start.seq} AND type IN ${ends}) AS ended,
      (SELECT max(seq) FROM agent_events WHERE session_id = ${session.id}) AS lastSeq`);
  return { startSeq: Number(start.seq), ended: Boolean(row?.ended), lastSeq: Number(row?.lastSeq ?? 0) };
}
