import { readUIMessageStream } from "ai";
import { and, asc, eq, isNotNull, isNull, max } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, inboxMessages, messages } from "@/db/schema";
import { agentEventsOf } from "../tasks/show-task";
import { type ChatChunk, type ChatEvent, type ChatMessage, ReplyChunker, toChatEvent, userMessageId } from "./chunks";

/** One turn: the messages that started it and what the agent did with them. */
export interface Turn {
  startSeq: number;
  events: ChatEvent[];
}

/**
 * Splits a session's events into turns. A turn starts with a run of messages (typed by the user,
 * the task's prompt, or put in by a parent or the system) and holds everything up to the next such
 * run; events before the first message form a turn of their own.
 */
export function splitTurns(events: ChatEvent[]): Turn[] {
  const turns: Turn[] = [];
  let current: Turn | undefined;
  let sawOutput = false;
  for (const item of events) {
    if (item.event.type === "session_started") continue;
    const isMessage = item.event.type === "user_message";
    if (!current || (isMessage && sawOutput)) {
      current = { startSeq: item.seq, events: [] };
      turns.push(current);
      sawOutput = false;
    }
    current.events.push(item);
    if (!isMessage) sawOutput = true;
  }
  return turns;
}

/** The messages of a turn someone typed: shown as their own bubbles, before the agent's reply. */
export function typedMessagesOf(sessionId: string, turn: Turn): ChatMessage[] {
  return turn.events.flatMap(({ seq, event }) =>
    event.type === "user_message" && (event.source === "user" || event.source === "task")
      ? [
          {
            id: userMessageId(sessionId, seq),
            role: "user" as const,
            metadata: { seq, author: event.source },
            parts: [{ type: "text" as const, text: event.text }],
          },
        ]
      : [],
  );
}

/** The chunks of a turn's reply, complete or as far as it has got. */
export function replyChunksOf(sessionId: string, turn: Turn): ChatChunk[] {
  const chunker = new ReplyChunker(sessionId, turn.startSeq);
  return [...chunker.start(), ...turn.events.flatMap((e) => chunker.push(e)), ...chunker.finish()];
}

/** A turn's reply as one message, built by the same stream reader the browser uses. */
export async function replyOf(sessionId: string, turn: Turn): Promise<ChatMessage | undefined> {
  const chunks = replyChunksOf(sessionId, turn);
  const stream = new ReadableStream<ChatChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  let last: ChatMessage | undefined;
  for await (const message of readUIMessageStream<ChatMessage>({ stream, terminateOnError: true })) last = message;
  return last && last.parts.length > 0 ? last : undefined;
}

export interface Transcript {
  messages: ChatMessage[];
  /** The seq of the last stored event the transcript includes (0: none yet). */
  lastSeq: number;
}

const PAGE = 1000;

/**
 * A session's conversation as chat messages, from its stored events. Messages the user sent that
 * have not reached the agent yet (the task is still queued, or the message waits behind a turn)
 * come last, so a reload never hides what the user wrote.
 */
export async function loadTranscript(db: Db, sessionId: string): Promise<Transcript> {
  const stored = [];
  for (let after = 0; ; ) {
    const page = await agentEventsOf(db, sessionId, after, PAGE);
    stored.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  const events = stored.map(toChatEvent).filter((e): e is ChatEvent => e !== undefined);
  const out: ChatMessage[] = [];
  for (const turn of splitTurns(events)) {
    out.push(...typedMessagesOf(sessionId, turn));
    const reply = await replyOf(sessionId, turn);
    if (reply) out.push(reply);
  }
  out.push(...(await undeliveredMessages(db, sessionId, events)));
  return { messages: out, lastSeq: stored.at(-1)?.seq ?? 0 };
}

/**
 * What the user wrote that no event shows the agent has received: the first prompt of a session
 * that has not started, and messages waiting in the task's inbox.
 */
async function undeliveredMessages(db: Db, sessionId: string, events: ChatEvent[]): Promise<ChatMessage[]> {
  const promptDelivered = events.some(({ event }) => event.type === "user_message" && event.source === "task");
  const [session, prompt] = await Promise.all([
    db.query.chatSessions.findFirst({ where: eq(chatSessions.id, sessionId), columns: { taskId: true } }),
    promptDelivered
      ? undefined
      : db.query.messages.findFirst({ where: and(eq(messages.sessionId, sessionId), eq(messages.seq, 1)) }),
  ]);
  const waiting = session
    ? await db
        .select({ id: inboxMessages.id, body: inboxMessages.body })
        .from(inboxMessages)
        .where(
          and(
            eq(inboxMessages.taskId, session.taskId),
            eq(inboxMessages.kind, "message"),
            isNotNull(inboxMessages.senderUserId),
            isNull(inboxMessages.deliveredAt),
          ),
        )
        .orderBy(asc(inboxMessages.createdAt))
    : [];
  const pending = (id: string, text: string): ChatMessage => ({
    id: `${sessionId}:pending:${id}`,
    role: "user",
    metadata: { seq: 0, author: "user" },
    parts: [{ type: "text", text }],
  });
  return [...(prompt ? [pending(prompt.id, prompt.content)] : []), ...waiting.map((m) => pending(m.id, m.body))];
}

/** The seq of the session's last stored event (0: none). */
export async function lastEventSeq(db: Db, sessionId: string): Promise<number> {
  const [row] = await db
    .select({ seq: max(agentEvents.seq) })
    .from(agentEvents)
    .where(eq(agentEvents.sessionId, sessionId));
  return row?.seq ?? 0;
}
