"use client";

import { useEffect, useState } from "react";
import { FieldError } from "../forms/FieldError";
import { useActionForm } from "../forms/use-action-form";
import type { CreateAction } from "./board-types";
import { PRIORITY_LABEL } from "./idea-labels";

/** "New idea" at the top of Draft: opens a small form; the board shows the idea once it is stored. */
export function NewIdeaForm({ create }: { create: CreateAction }) {
  const [open, setOpen] = useState(false);
  const { state, pending, form, field, error } = useActionForm(create, {
    idPrefix: "new-idea",
    initial: { priority: "0" },
    clearOnSuccess: true,
  });
  useEffect(() => {
    if (state.ok) setOpen(false);
  }, [state]);
  const fieldClass =
    "w-full rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";
  if (!open) {
    return (
      <button
        type="button"
        onClick={() => setOpen(true)}
        className="mb-2 w-full rounded-md border border-dashed border-zinc-300 px-2 py-1.5 text-left text-sm text-zinc-600 hover:border-zinc-400 hover:text-zinc-900 dark:border-zinc-700 dark:text-zinc-400 dark:hover:text-zinc-100"
      >
        + New idea
      </button>
    );
  }
  return (
    <form
      {...form}
      aria-label="New idea"
      className="mb-2 space-y-1.5 rounded-md border border-zinc-200 bg-white p-2 dark:border-zinc-700 dark:bg-zinc-950"
      onKeyDown={(e) => {
        if (e.key === "Escape") setOpen(false);
      }}
    >
      <label className="block text-xs font-medium">
        Title
        <input
          {...field("title")}
          required
          // biome-ignore lint/a11y/noAutofocus: the user just asked for a new idea
          autoFocus
          className={fieldClass}
        />
      </label>
      <FieldError {...error("title")} />
      <label className="block text-xs font-medium">
        Details <span className="font-normal text-zinc-600 dark:text-zinc-400">(markdown, optional)</span>
        <textarea {...field("content")} rows={3} className={fieldClass} />
      </label>
      <FieldError {...error("content")} />
      <label className="block text-xs font-medium">
        Priority
        <select {...field("priority")} className={fieldClass}>
          {[0, 1, 2, 3].map((p) => (
            <option key={p} value={p}>
              {PRIORITY_LABEL[p]}
            </option>
          ))}
        </select>
      </label>
      <FieldError {...error("priority")} />
      {state.error ? (
        <p role="alert" className="whitespace-pre-line text-xs text-red-700 dark:text-red-400">
          {state.error}
        </p>
      ) : null}
      <div className="flex gap-2">
        <button
          type="submit"
          disabled={pending}
          className="rounded bg-zinc-900 px-2 py-1 text-xs font-medium text-white disabled:opacity-60 dark:bg-zinc-100 dark:text-zinc-900"
        >
          Add idea
        </button>
        <button
          type="button"
          onClick={() => setOpen(false)}
          className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
