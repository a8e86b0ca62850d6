"use client";

import { useActionState, useState } from "react";
import { sendTaskMessageAction } from "@/app/projects/[id]/(workspace)/tasks/actions";
import type { ActionState } from "@/components/forms/action-state";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";

/**
 * A message to the task's agent, sent as the project's user through the orchestrator: it reaches a
 * running agent at once, or waits in the task's inbox until the agent can take it. It appears in the
 * activity at once, marked pending until the agent has it.
 */
export function TaskMessageBox({
  projectId,
  taskId,
  waiting,
}: {
  projectId: string;
  taskId: string;
  waiting: boolean;
}) {
  const [text, setText] = useState("");
  const [state, action, sending] = useActionState<ActionState, FormData>(async (prev, formData) => {
    const result = await sendTaskMessageAction(projectId, taskId, prev, formData);
    // Kept on failure, so a refused message is not lost.
    if (!result.error) setText("");
    return result;
  }, {});

  return (
    <form action={action} aria-label="Message the agent" className="space-y-2">
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
        name="message"
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={3}
        required
        className={inputClass}
      />
      {state.error ? (
        <p
          role="alert"
          className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
        >
          {state.error}
        </p>
      ) : state.ok && state.message ? (
        <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
          {state.message}
        </p>
      ) : state.ok === false && state.message ? (
        <p
          role="status"
          data-testid="message-pending"
          className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
        >
          {state.message}
        </p>
      ) : null}
      <button type="submit" disabled={sending || text.trim() === ""} className={primaryButtonClass}>
        {sending ? "Sending…" : "Send"}
      </button>
    </form>
  );
}
