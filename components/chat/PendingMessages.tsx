"use client";

import type { ChatStatus } from "ai";
import { useRef } from "react";
import type { SentMessageJson } from "@/components/tasks/task-json";
import type { ChatMessage } from "@/lib/chat/chunks";
import type { MessageDelivery } from "@/lib/tasks/message-sender";
import { MessageToAgent } from "./MessageToAgent";

/** What is shown of a message on its way (the server's copy has a Date where the stream's has text). */
type PendingMessage = Pick<SentMessageJson, "id" | "text" | "sender" | "delivery">;

function textOf(message: ChatMessage): string {
  return message.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
}

/**
 * The delivery of a message this tab sent, which the stored transcript does not show yet (it has no
 * metadata): the reply that follows it proves the agent has it (a reply's stream starts only once
 * the agent received the message); before that, while the request is out, it is on its way.
 */
export function sendingDelivery(
  messages: ChatMessage[],
  index: number,
  status: ChatStatus,
): MessageDelivery | undefined {
  const message = messages[index];
  if (message?.role !== "user" || message.metadata) return undefined;
  if (index < messages.length - 1) return "delivered";
  return status === "submitted" ? "waiting" : undefined;
}

/**
 * Messages sent to the session that its agent has not received — from the task page, the CLI, the
 * parent task, a stop's warning — after the transcript, live from the task's stream. One that
 * arrives stays here, delivered, until the transcript shows it in its place; one this tab is sending
 * is already shown by the chat itself.
 */
export function PendingMessages({
  initial,
  live,
  shown,
  status,
}: {
  /** As the page was rendered. */
  initial?: PendingMessage[];
  /** As the task's stream last said (undefined until it has). */
  live?: PendingMessage[];
  /** The chat's messages. */
  shown: ChatMessage[];
  status: ChatStatus;
}) {
  const pending = live ?? initial ?? [];
  const inTranscript = (m: PendingMessage) =>
    shown.some((s) => s.role === "user" && s.metadata && (s.metadata.messageId === m.id || textOf(s) === m.text));
  // What this tab is sending shows as its own bubble; the same message from the stream is not repeated.
  const sending = new Set(
    shown.flatMap((s, i) => (sendingDelivery(shown, i, status) === "waiting" ? [textOf(s).trim()] : [])),
  );
  const visible = pending.filter((m) => !inTranscript(m) && !(m.sender.kind === "user" && sending.has(m.text.trim())));

  // Shown before and gone from the stream's list: the agent received it; kept until the transcript has it.
  const seen = useRef(new Map<string, PendingMessage>());
  const pendingIds = new Set(pending.map((m) => m.id));
  const arrived = [...seen.current.values()].filter((m) => !pendingIds.has(m.id) && !inTranscript(m));
  seen.current = new Map([...arrived, ...visible].map((m) => [m.id, m]));

  return (
    <>
      {arrived.map((m) => (
        <MessageToAgent key={m.id} text={m.text} sender={m.sender} delivery="delivered" />
      ))}
      {visible.map((m) => (
        <MessageToAgent key={m.id} text={m.text} sender={m.sender} delivery={m.delivery} />
      ))}
    </>
  );
}
