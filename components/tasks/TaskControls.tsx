"use client";

import { useEffect, useId, useState } from "react";
import {
  endConversationAction,
  removeTaskAction,
  retryTaskAction,
  stopTaskAction,
} from "@/app/projects/[id]/(workspace)/tasks/actions";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";
import { type ControlledTask, controlStates, DESTRUCTIVE, missingRetryNote } from "./task-controls-state";

const base = "rounded-md border px-3 py-1.5 text-sm font-medium disabled:cursor-not-allowed disabled:opacity-60";
const plainClass = `${base} border-zinc-300 hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-900`;
const dangerClass = `${base} border-red-300 text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-400 dark:hover:bg-red-950`;
const confirmClass = `${base} border-zinc-900 bg-zinc-900 text-white hover:bg-zinc-700 dark:border-zinc-100 dark:bg-zinc-100 dark:text-zinc-900`;
const confirmDangerClass = `${base} border-red-700 bg-red-700 text-white hover:bg-red-800 dark:border-red-600 dark:bg-red-600`;

/**
 * A button that opens a confirmation form; the form's action does the work. An open form stays
 * open while the user has it, even if the control stops applying meanwhile: what they typed is kept,
 * and the server's refusal says why.
 */
function Confirmed({
  available,
  label,
  confirmLabel,
  explanation,
  action,
  danger,
  field,
}: {
  available: boolean;
  label: string;
  confirmLabel: string;
  explanation: string;
  action: FormAction;
  danger: boolean;
  field?: { name: string; label: string; mono?: boolean };
}) {
  const [open, setOpen] = useState(false);
  // The chat's header and the task panel beside it may both show these controls: ids of their own.
  const { state, pending, form, field: fieldProps, error } = useActionForm(action, { idPrefix: useId() });
  // Done: the form closes; the page shows the stop under way.
  useEffect(() => {
    if (state.ok) setOpen(false);
  }, [state]);
  if (!open) {
    return available ? (
      <div className="flex flex-col gap-1">
        <button type="button" onClick={() => setOpen(true)} className={danger ? dangerClass : plainClass}>
          {label}
        </button>
        <FormError state={state} />
      </div>
    ) : null;
  }
  return (
    <form
      {...form}
      aria-label={label}
      className="basis-full space-y-2 rounded-md border border-zinc-300 p-3 dark:border-zinc-700"
    >
      <p className="text-sm">{explanation}</p>
      {field ? (
        <div>
          <label htmlFor={fieldProps(field.name).id} className="mb-1 block text-sm font-medium">
            {field.label}
          </label>
          <textarea
            {...fieldProps(field.name)}
            rows={field.mono ? 4 : 2}
            className={`${inputClass} ${field.mono ? "font-mono" : ""}`}
          />
          <FieldError {...error(field.name)} />
        </div>
      ) : null}
      <FormError state={state} />
      <div className="flex flex-wrap gap-2">
        <button type="submit" disabled={pending} className={danger ? confirmDangerClass : confirmClass}>
          {pending ? "Working…" : confirmLabel}
        </button>
        <button type="button" onClick={() => setOpen(false)} className={plainClass}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** A one-click control whose result (or refusal) shows beside it. */
function OneClick({ label, action, danger }: { label: string; action: FormAction; danger: boolean }) {
  const { state, pending, form } = useActionForm<ActionState>(action);
  return (
    <form {...form} className="flex flex-col gap-1">
      <button type="submit" disabled={pending} className={danger ? dangerClass : plainClass}>
        {pending ? "Working…" : label}
      </button>
      <FormError state={state} />
    </form>
  );
}

/**
 * What the project's user can do to a task now, and nothing else: stop a task (or end a
 * conversation), retry a failed one, remove a queued one. Which of them apply comes from one table
 * (`controlStates`); each goes through the orchestrator with the rules the agents' tools follow.
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
  /** Leave out the note on why a failed task cannot be retried (the chat's header has no room). */
  onlyAvailable?: boolean;
}) {
  const states = controlStates(task);
  const grace =
    graceSeconds === undefined
      ? "the project's grace period"
      : `${graceSeconds} second${graceSeconds === 1 ? "" : "s"}`;
  const note = onlyAvailable ? undefined : missingRetryNote(task, states);
  // A task that has not started has no agent to warn: the stop ends it at once.
  const notStarted = task.status === "queued" || task.status === "provisioning";
  return (
    <section aria-label="Task controls" data-testid="task-controls" className="flex flex-wrap items-start gap-3">
      <Confirmed
        available={states.stop.enabled}
        label="Stop"
        confirmLabel="Confirm stop"
        explanation={
          notStarted
            ? "Stop this task before it starts? It fails with your reason and does not run."
            : `Stop this task? The agent is warned and gets ${grace} to commit its work; then it is stopped, its work is pushed, and the task fails with your reason.`
        }
        action={stopTaskAction.bind(null, projectId, task.id)}
        danger={DESTRUCTIVE.stop}
        field={{ name: "reason", label: "Reason (optional)" }}
      />
      <Confirmed
        available={states.end.enabled}
        label="End conversation"
        confirmLabel="End it"
        explanation={
          notStarted
            ? "End this conversation before it starts? It is cancelled."
            : `End this conversation? The agent is told and gets ${grace} to wrap up; then the conversation ends. Nothing is committed or pushed.`
        }
        action={endConversationAction.bind(null, projectId, task.id)}
        danger={DESTRUCTIVE.end}
      />
      <Confirmed
        available={states.retry.enabled}
        label="Retry"
        confirmLabel="Retry now"
        explanation="A new attempt starts in its place and is told why this one failed and what it said last."
        action={retryTaskAction.bind(null, projectId, task.id)}
        danger={DESTRUCTIVE.retry}
        field={{ name: "extraContext", label: "Note for the new attempt (optional)", mono: true }}
      />
      {states.remove.enabled ? (
        <OneClick label="Remove" action={removeTaskAction.bind(null, projectId, task.id)} danger={DESTRUCTIVE.remove} />
      ) : null}
      {note ? (
        <p data-testid="retry-unavailable" className="text-sm text-zinc-600 dark:text-zinc-400">
          No retry: {note}
        </p>
      ) : null}
    </section>
  );
}
