"use client";

import { useEffect } from "react";
import { FieldError } from "../forms/FieldError";
import { useActionForm } from "../forms/use-action-form";
import type { BoardCardJson, UpdateAction } from "./board-types";
import { PRIORITY_LABEL } from "./idea-labels";

/** Edits a card's title and priority in place; Escape or Cancel leaves it as it was. */
export function IdeaCardEditor({
  card,
  update,
  done,
}: {
  card: BoardCardJson;
  update: UpdateAction;
  done: () => void;
}) {
  const { state, pending, form, field, error } = useActionForm(update.bind(null, card.id), {
    idPrefix: `card-${card.id}`,
    initial: { title: card.title, priority: card.priority },
  });
  useEffect(() => {
    if (state.ok) done();
  }, [state, done]);
  const fieldClass =
    "w-full rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";
  return (
    <form
      {...form}
      aria-label={`Edit ${card.title}`}
      className="space-y-1.5"
      onKeyDown={(e) => {
        if (e.key === "Escape") done();
      }}
    >
      <label className="block text-xs font-medium">
        Title
        <input
          {...field("title")}
          required
          // biome-ignore lint/a11y/noAutofocus: the user just asked to edit this card
          autoFocus
          className={fieldClass}
        />
      </label>
      <FieldError {...error("title")} />
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
          Save
        </button>
        <button
          type="button"
          onClick={done}
          className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
