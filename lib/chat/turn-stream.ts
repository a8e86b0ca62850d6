import type { Db } from "@/db/client";
import type { TaskMode } from "@/db/schema";
import { watchTask } from "../tasks/watch-task";
import { type ChatChunk, type ChatEvent, ReplyChunker, toChatEvent } from "./chunks";

/** Which turn a stream follows. */
export type TurnTarget =
  /** The turn that takes the message with this id (a follow-up just sent). */
  | { kind: "message"; messageId: string }
  /** The session's first turn (a new task or conversation). */
  | { kind: "prompt" }
  /** A turn already under way or done, replayed from its first event (a reload, another tab). */
  | { kind: "turn"; startSeq: number };

export interface TurnStreamOptions {
  userId: string;
  taskId: string;
  sessionId: string;
  mode: TaskMode;
  /** Events after this seq are looked at; earlier ones are not part of the turn. */
  afterSeq: number;
  target: TurnTarget;
  signal: AbortSignal;
}

/**
 * The agent's reply to one turn as UI message chunks, made from the stored events as they arrive.
 * It ends when the turn does: a conversation's turn at `turn_ended`, a task's session at
 * `session_finished`, any turn when the next one starts, and when the task has ended for good.
 * Every event also yields a transient `data-seq` so the browser knows how far it has read.
 */
export async function* streamTurn(db: Db, opts: TurnStreamOptions): AsyncGenerator<ChatChunk> {
  const { target } = opts;
  const afterSeq = target.kind === "turn" ? Math.min(opts.afterSeq, target.startSeq - 1) : opts.afterSeq;
  const feed = watchTask(db, opts.userId, opts.taskId, { afterSeq, signal: opts.signal, messages: false });
  let chunker: ReplyChunker | undefined;
  // The run of messages that starts a turn, held until the awaited message shows it is ours.
  let run: ChatEvent[] = [];
  let sawOutput = false;
  try {
    for await (const item of feed) {
      if (item.kind !== "agent") continue;
      const chatEvent = toChatEvent(item.event);
      // The message that starts the next turn ends this stream unread: the browser then sees an event
      // it has not shown and loads the transcript, which shows that message with its sender.
      if (chunker && sawOutput && chatEvent?.event.type === "user_message") break;
      yield { type: "data-seq", data: { seq: item.event.seq }, transient: true };
      if (!chatEvent || chatEvent.event.type === "session_started") continue;
      const { event } = chatEvent;

      if (!chunker) {
        if (event.type !== "user_message") {
          run = [];
          if (target.kind !== "turn" || chatEvent.seq < target.startSeq) continue;
        } else {
          run.push(chatEvent);
          const ours =
            target.kind === "prompt"
              ? event.source === "task"
              : target.kind === "message"
                ? event.messageId === target.messageId
                : chatEvent.seq >= target.startSeq;
          if (!ours) continue;
        }
        const startSeq = target.kind === "turn" ? target.startSeq : (run[0]?.seq ?? chatEvent.seq);
        chunker = new ReplyChunker(opts.sessionId, startSeq);
        yield* chunker.start();
        const held = target.kind === "turn" ? [chatEvent] : run;
        for (const e of held) yield* chunker.push(e);
        if (event.type !== "user_message") sawOutput = true;
        continue;
      }

      if (event.type !== "user_message") sawOutput = true;
      yield* chunker.push(chatEvent);
      if (event.type === "session_finished") break;
      if (event.type === "turn_ended" && opts.mode === "conversation") break;
    }
  } finally {
    await feed.return(undefined);
  }
  if (chunker) yield* chunker.finish();
}
