"use client";

import { type FormEvent, type KeyboardEvent, type ReactNode, useState } from "react";
import { CHAT_MESSAGE_MAX } from "@/lib/chat/message-limit";

/** The counter shows once a message is this close to the limit. */
const COUNTER_FROM = CHAT_MESSAGE_MAX * 0.9;

const count = (n: number) => n.toLocaleString("en");

/**
 * The message box: Enter sends, Shift+Enter starts a new line. While the session cannot take a
 * message it is disabled and says why. Near the length limit a counter appears; a longer message is
 * kept as typed (nothing is cut) and Send is refused until it is short enough.
 */
export function ChatComposer({
  onSend,
  disabledReason,
  placeholder,
  toolbar,
  draft,
  onDraftChange,
}: {
  onSend: (text: string) => void;
  disabledReason?: string;
  placeholder: string;
  toolbar?: ReactNode;
  draft: string;
  onDraftChange: (text: string) => void;
}) {
  const [error, setError] = useState<string>();
  const disabled = disabledReason !== undefined;
  const over = draft.length - CHAT_MESSAGE_MAX;

  function send() {
    if (disabled || over > 0) return;
    if (draft.trim() === "") {
      setError("Write a message first");
      return;
    }
    setError(undefined);
    onSend(draft);
    onDraftChange("");
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    send();
  }

  return (
    <form
      onSubmit={onSubmit}
      aria-label="Chat message"
      className="rounded-xl border border-zinc-300 bg-white p-2 shadow-sm focus-within:border-blue-500 dark:border-zinc-700 dark:bg-zinc-950"
    >
      <label htmlFor="chat-input" className="sr-only">
        Message
      </label>
      <textarea
        id="chat-input"
        value={draft}
        onChange={(e) => onDraftChange(e.target.value)}
        onKeyDown={onKeyDown}
        disabled={disabled}
        rows={3}
        placeholder={placeholder}
        aria-invalid={over > 0 ? true : undefined}
        aria-describedby={
          [disabled ? "chat-disabled-reason" : "", draft.length >= COUNTER_FROM ? "chat-length" : ""]
            .filter(Boolean)
            .join(" ") || undefined
        }
        className="block w-full resize-y bg-transparent px-2 py-1 text-sm outline-none disabled:cursor-not-allowed disabled:opacity-60"
      />
      <div className="mt-1 flex flex-wrap items-center gap-2">
        {toolbar}
        <span className="ml-auto hidden text-xs text-zinc-600 sm:inline dark:text-zinc-400">
          Enter to send · Shift+Enter for a new line
        </span>
        {draft.length >= COUNTER_FROM ? (
          <span
            id="chat-length"
            data-testid="composer-counter"
            className={`text-xs tabular-nums ${over > 0 ? "font-medium text-red-700 dark:text-red-400" : "text-zinc-600 dark:text-zinc-400"}`}
          >
            {over > 0
              ? `${count(over)} ${over === 1 ? "character" : "characters"} over the limit of ${count(CHAT_MESSAGE_MAX)}`
              : `${count(draft.length)} / ${count(CHAT_MESSAGE_MAX)}`}
          </span>
        ) : null}
        <button
          type="submit"
          disabled={disabled || over > 0}
          className="rounded-md bg-blue-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-700 disabled:cursor-not-allowed disabled:opacity-50"
        >
          Send
        </button>
      </div>
      {disabled ? (
        <p
          id="chat-disabled-reason"
          data-testid="composer-disabled-reason"
          className="mt-1 px-2 text-xs text-zinc-600 dark:text-zinc-400"
        >
          {disabledReason}
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="mt-1 px-2 text-xs text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : null}
    </form>
  );
}
