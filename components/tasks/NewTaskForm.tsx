"use client";

import { useActionState, useState } from "react";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";

/** Queues a task in the project: a prompt, a mode and an optional title. */
export function NewTaskForm({ create }: { create: FormAction }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(create, {});
  // Controlled: React resets a form after its action, and a refused prompt must not be lost.
  const [prompt, setPrompt] = useState("");
  const [title, setTitle] = useState("");
  const [mode, setMode] = useState("task");
  return (
    <form
      action={action}
      aria-label="New task"
      className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
    >
      <h2 className="font-medium">New task</h2>
      <FormError state={state} />
      <div>
        <label htmlFor="task-prompt" className="mb-1 block text-sm font-medium">
          Prompt
        </label>
        <textarea
          id="task-prompt"
          name="prompt"
          required
          rows={6}
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          placeholder="What should the agent do?"
          aria-describedby="task-prompt-error"
          aria-invalid={state.fields?.prompt ? true : undefined}
          className={`${inputClass} font-mono`}
        />
        <FieldError id="task-prompt-error" message={state.fields?.prompt} />
      </div>
      <div>
        <label htmlFor="task-title" className="mb-1 block text-sm font-medium">
          Title <span className="font-normal text-zinc-500">(optional; else the prompt's first line)</span>
        </label>
        <input
          id="task-title"
          name="title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          aria-describedby="task-title-error"
          className={inputClass}
        />
        <FieldError id="task-title-error" message={state.fields?.title} />
      </div>
      <div>
        <label htmlFor="task-mode" className="mb-1 block text-sm font-medium">
          Mode
        </label>
        <select
          id="task-mode"
          name="mode"
          value={mode}
          onChange={(e) => setMode(e.target.value)}
          className={inputClass}
        >
          <option value="task">task — implement, commit, push</option>
          <option value="conversation">conversation — talk it through</option>
        </select>
        <FieldError id="task-mode-error" message={state.fields?.mode} />
      </div>
      <button type="submit" disabled={pending} className={primaryButtonClass}>
        {pending ? "Creating…" : "Create task"}
      </button>
    </form>
  );
}
