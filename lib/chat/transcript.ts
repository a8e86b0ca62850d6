import { readUIMessageStream } from "ai";
import { eq, max } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentEvents } from "@/db/schema";
import type { MessageSender } from "../tasks/message-sender";
import {
  type AgentEventWithSender,
  type SentMessage,
  sessionTaskOf,
  unreceivedMessages,
  withSenders,
} from "../tasks/sent-messages";
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

/**
 * The messages that start a turn (typed, the prompt, from the parent or SAM), each its own message
 * before the agent's reply, marked with who sent it and delivered: its event shows the agent has it.
 */
export function messagesToAgentOf(sessionId: string, turn: Turn, senders: Map<number, MessageSender>): ChatMessage[] {
  return turn.events.flatMap(({ seq, event }) =>
    event.type === "user_message"
      ? [
          {
            id: userMessageId(sessionId, seq),
            role: "user" as const,
            metadata: {
              seq,
              author: event.source,
              sender: senders.get(seq),
              ...(event.messageId ? { messageId: event.messageId } : {}),
              delivery: "delivered" as const,
            },
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
  /** Messages sent to the session that its agent has not received, shown after everything else (absent: none). */
  pending?: SentMessage[];
}

const PAGE = 1000;

/**
 * A session's conversation as chat messages, from its stored events, with every message to the
 * agent marked by its sender (`viewerId` is "You"). Messages that have not reached the agent yet
 * (the task is still queued, the message waits in the inbox or behind a turn, a stop's warning) are
 * in `pending`, so a reload never hides what was sent.
 */
export async function loadTranscript(db: Db, sessionId: string, viewerId?: string): Promise<Transcript> {
  const task = await sessionTaskOf(db, sessionId);
  const stored: AgentEventWithSender[] = [];
  for (let after = 0; ; ) {
    const page = await agentEventsOf(db, sessionId, after, PAGE);
    stored.push(...(task ? await withSenders(db, task, page, viewerId) : page));
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  const senders = new Map(stored.flatMap((e) => (e.sender ? [[e.seq, e.sender] as const] : [])));
  const events = stored.map(toChatEvent).filter((e): e is ChatEvent => e !== undefined);
  const out: ChatMessage[] = [];
  for (const turn of splitTurns(events)) {
    out.push(...messagesToAgentOf(sessionId, turn, senders));
    const reply = await replyOf(sessionId, turn);
    if (reply) out.push(reply);
  }
  const pending = task ? await unreceivedMessages(db, task, sessionId, viewerId) : [];
  return { messages: out, lastSeq: stored.at(-1)?.seq ?? 0, pending };
}

/** The seq of the session's last stored event (0: none). */
export async function lastEventSeq(db: Db, sessionId: string): Promise<number> {
  const [row] = await db
    .select({ seq: max(agentEvents.seq) })
    .from(agentEvents)
    .where(eq(agentEvents.sessionId, sessionId));
  return row?.seq ?? 0;
}
