"use client";

import { type FormEvent, useState } from "react";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";

/** A follow-up to a conversation: posted to the task; it appears in the log once the agent has it. */
export function TaskMessageBox({ taskId, waiting }: { taskId: string; waiting: boolean }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string>();
  const [sending, setSending] = useState(false);

  async function send(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setSending(true);
    setError(undefined);
    try {
      const res = await fetch(`/api/tasks/${encodeURIComponent(taskId)}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
      });
      if (res.ok) {
        setText("");
      } else {
        const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
        setError(body?.error?.message ?? `The message was not sent (HTTP ${res.status})`);
      }
    } catch {
      setError("The message was not sent: the server could not be reached");
    } finally {
      setSending(false);
    }
  }

  return (
    <form onSubmit={send} aria-label="Message the agent" className="space-y-2">
      {waiting ? (
        <p
          role="status"
          className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
        >
          Waiting for follow-up: the agent finished its turn. Reply to continue.
        </p>
      ) : null}
      <label htmlFor="task-message" className="block text-sm font-medium">
        Message
      </label>
      <textarea
        id="task-message"
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={3}
        required
        className={inputClass}
      />
      {error ? (
        <p
          role="alert"
          className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
        >
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={sending || text.trim() === ""} className={primaryButtonClass}>
        {sending ? "Sending…" : "Send"}
      </button>
    </form>
  );
}
