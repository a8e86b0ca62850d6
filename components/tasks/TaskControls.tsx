"use client";

import Link from "next/link";
import { useActionState, useId, useState } from "react";
import {
  endConversationAction,
  removeTaskAction,
  retryTaskAction,
  stopTaskAction,
} from "@/app/projects/[id]/(workspace)/tasks/actions";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FormError } from "@/components/forms/FieldError";
import { inputClass } from "@/components/forms/styles";
import { type ControlledTask, type ControlState, controlStates } from "./task-controls-state";

const buttonClass =
  "rounded-md border px-3 py-1.5 text-sm font-medium disabled:cursor-not-allowed disabled:opacity-50 border-zinc-300 hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-900";
const dangerClass =
  "rounded-md border px-3 py-1.5 text-sm font-medium disabled:opacity-50 border-red-400 bg-red-600 text-white hover:bg-red-700 dark:border-red-700";

/** A control that does not apply now: the button, disabled, with the reason beside it. */
function Unavailable({ label, state }: { label: string; state: Extract<ControlState, { enabled: false }> }) {
  const id = useId();
  return (
    <div className="flex min-w-0 flex-col gap-1">
      <button type="button" disabled aria-describedby={id} className={buttonClass}>
        {label}
      </button>
      <p id={id} className="text-xs text-zinc-500">
        {state.reason}
      </p>
    </div>
  );
}

/** A button that opens a confirmation form; the form's action does the work. */
function Confirmed({
  label,
  confirmLabel,
  explanation,
  action,
  field,
}: {
  label: string;
  confirmLabel: string;
  explanation: string;
  action: FormAction;
  field?: { name: string; label: string; placeholder?: string; mono?: boolean };
}) {
  const [open, setOpen] = useState(false);
  const [state, run, pending] = useActionState<ActionState, FormData>(action, {});
  const fieldId = useId();
  if (!open) {
    return (
      <div className="flex flex-col gap-1">
        <button type="button" onClick={() => setOpen(true)} className={buttonClass}>
          {label}
        </button>
        <FormError state={state} />
      </div>
    );
  }
  return (
    <form
      action={run}
      aria-label={label}
      className="basis-full space-y-2 rounded-md border border-zinc-300 p-3 dark:border-zinc-700"
    >
      <p className="text-sm">{explanation}</p>
      {field ? (
        <div>
          <label htmlFor={fieldId} className="mb-1 block text-sm font-medium">
            {field.label}
          </label>
          <textarea
            id={fieldId}
            name={field.name}
            rows={field.mono ? 4 : 2}
            placeholder={field.placeholder}
            className={`${inputClass} ${field.mono ? "font-mono" : ""}`}
          />
        </div>
      ) : null}
      <FormError state={state} />
      <div className="flex flex-wrap gap-2">
        <button type="submit" disabled={pending} className={dangerClass}>
          {pending ? "Working…" : confirmLabel}
        </button>
        <button type="button" onClick={() => setOpen(false)} className={buttonClass}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** A one-click control whose result (or error) shows beside it. */
function OneClick({ label, action }: { label: string; action: FormAction }) {
  const [state, run, pending] = useActionState<ActionState, FormData>(action, {});
  return (
    <form action={run} className="flex flex-col gap-1">
      <button type="submit" disabled={pending} className={buttonClass}>
        {pending ? "Working…" : label}
      </button>
      <FormError state={state} />
    </form>
  );
}

/**
 * What the project's user can do to a task: stop it (or end a conversation), retry it when it
 * failed, remove it while it is queued. Each control goes through the orchestrator with the rules
 * the agents' tools follow; a control that does not apply says why.
 */
export function TaskControls({
  projectId,
  task,
  graceSeconds,
  onlyAvailable = false,
}: {
  projectId: string;
  task: ControlledTask;
  /** The project's stop grace period, for the confirmation text. */
  graceSeconds?: number;
  /** Leave out controls that do not apply now (the chat's header has no room for the reasons). */
  onlyAvailable?: boolean;
}) {
  const states = controlStates(task);
  const grace = graceSeconds === undefined ? "the project's grace period" : `${graceSeconds} s`;
  const ending = states.stopLabel === "End conversation";
  return (
    <section aria-label="Task controls" data-testid="task-controls" className="flex flex-wrap items-start gap-3">
      {states.stop.enabled ? (
        <Confirmed
          label={states.stopLabel}
          confirmLabel={ending ? "End it" : "Confirm stop"}
          explanation={
            ending
              ? `End this conversation? The agent gets ${grace} to wrap up; nothing is committed or pushed, and the conversation ends.`
              : `Stop this task? The agent is warned and gets ${grace} to commit its work; then it is stopped, its work is pushed, and the task fails with your reason.`
          }
          action={(ending ? endConversationAction : stopTaskAction).bind(null, projectId, task.id)}
          field={ending ? undefined : { name: "reason", label: "Reason (optional)" }}
        />
      ) : onlyAvailable ? null : (
        <Unavailable label={states.stopLabel} state={states.stop} />
      )}
      {states.retry.enabled ? (
        <Confirmed
          label="Retry"
          confirmLabel="Retry now"
          explanation="A new attempt starts in its place and is told why this one failed and what it said last."
          action={retryTaskAction.bind(null, projectId, task.id)}
          field={{ name: "extraContext", label: "Note for the new attempt (optional)", mono: true }}
        />
      ) : task.retriedAsId ? (
        <p className="text-sm">
          Retried as{" "}
          <Link href={`/projects/${projectId}/tasks/${task.retriedAsId}`} className="underline">
            the next attempt
          </Link>
          .
        </p>
      ) : onlyAvailable ? null : (
        <Unavailable label="Retry" state={states.retry} />
      )}
      {states.remove.enabled ? (
        <OneClick label="Remove" action={removeTaskAction.bind(null, projectId, task.id)} />
      ) : onlyAvailable ? null : (
        <Unavailable label="Remove" state={states.remove} />
      )}
    </section>
  );
}
