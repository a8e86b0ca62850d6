"use client";

import { useState } from "react";
import type { IdeaStatus } from "@/db/schema";
import type { ActionState, FormAction } from "../forms/action-state";
import { FieldError, FormError } from "../forms/FieldError";
import { inputClass, primaryButtonClass } from "../forms/styles";
import { useActionForm } from "../forms/use-action-form";
import { HAND_MOVED, isMovableStatus } from "./board-columns";
import { PRIORITY_LABEL, STATUS_LABEL } from "./idea-labels";

const FIELDS = ["title", "priority", "status", "content"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

interface Sync {
  /** What the fields show. */
  draft: Values;
  /** The stored values each field's draft started from; differs from the stored value once it changed elsewhere. */
  base: Values;
  seenStored: Values;
  seenState: ActionState;
}

/**
 * Follows the stored idea while the page is open: a field the user has not touched takes the new
 * value; a field being edited keeps what the user typed, and is marked as changed elsewhere.
 */
function useIdeaDraft(stored: Values, state: ActionState) {
  const [sync, setSync] = useState<Sync>({ draft: stored, base: stored, seenStored: stored, seenState: state });
  let { draft, base } = sync;
  const storedChanged = FIELDS.some((f) => sync.seenStored[f] !== stored[f]);
  if (state !== sync.seenState || storedChanged) {
    // A successful save makes what was sent the starting point, so the stored answer replaces it.
    if (state !== sync.seenState && state.ok) base = draft;
    if (storedChanged) {
      draft = { ...draft };
      base = { ...base };
      for (const f of FIELDS) {
        if (draft[f] === base[f] || draft[f] === stored[f]) {
          draft[f] = stored[f];
          base[f] = stored[f];
        }
      }
    }
    setSync({ draft, base, seenStored: stored, seenState: state });
  }
  return {
    draft,
    changedElsewhere: (f: Field) => base[f] !== stored[f],
    set: (f: Field, value: string) => setSync((s) => ({ ...s, draft: { ...s.draft, [f]: value } })),
    /** Drops the user's edit of `f` for the stored value. */
    takeStored: (f: Field) =>
      setSync((s) => ({ ...s, draft: { ...s.draft, [f]: stored[f] }, base: { ...s.base, [f]: stored[f] } })),
  };
}

function ChangedElsewhere({ field, onTake }: { field: string; onTake: () => void }) {
  return (
    <p
      data-testid={`idea-${field}-changed`}
      role="status"
      className="mt-1 flex flex-wrap items-center gap-2 text-xs font-normal text-amber-800 dark:text-amber-300"
    >
      Changed elsewhere while you edit it; saving keeps your version.
      <button type="button" onClick={onTake} className="underline hover:no-underline">
        Use the new version
      </button>
    </p>
  );
}

/** The idea's fields, kept current with changes made elsewhere; the status menu offers the hand-moved statuses only. */
export function IdeaEditForm({
  idea,
  save,
  disabled,
}: {
  idea: { title: string; content: string; priority: number; status: IdeaStatus };
  save: FormAction;
  disabled?: boolean;
}) {
  const { state, pending, form, error } = useActionForm(save, { idPrefix: "idea" });
  const stored: Values = {
    title: idea.title,
    priority: String(idea.priority),
    status: idea.status,
    content: idea.content,
  };
  const { draft, changedElsewhere, set, takeStored } = useIdeaDraft(stored, state);
  const props = (f: Field) => ({
    id: `idea-${f}`,
    name: f,
    value: draft[f],
    disabled,
    onChange: (e: { target: { value: string } }) => set(f, e.target.value),
    "aria-invalid": state.fields?.[f] ? true : undefined,
    "aria-describedby": state.fields?.[f] ? `idea-${f}-error` : undefined,
  });
  const note = (f: Field) => (changedElsewhere(f) ? <ChangedElsewhere field={f} onTake={() => takeStored(f)} /> : null);
  return (
    <form {...form} className="space-y-3" aria-label="Edit idea">
      <div>
        <label htmlFor="idea-title" className="block text-sm font-medium">
          Title
        </label>
        <input {...props("title")} required className={`${inputClass} mt-1`} />
        {note("title")}
        <FieldError {...error("title")} />
      </div>
      <div className="grid grid-cols-2 gap-3">
        <div>
          <label htmlFor="idea-priority" className="block text-sm font-medium">
            Priority
          </label>
          <select {...props("priority")} className={`${inputClass} mt-1`}>
            {[0, 1, 2, 3].map((p) => (
              <option key={p} value={p}>
                {PRIORITY_LABEL[p]}
              </option>
            ))}
          </select>
          {note("priority")}
          <FieldError {...error("priority")} />
        </div>
        {isMovableStatus(idea.status) ? (
          <div>
            <label htmlFor="idea-status" className="block text-sm font-medium">
              Status
            </label>
            <select {...props("status")} className={`${inputClass} mt-1`}>
              {HAND_MOVED.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
            {note("status")}
            <FieldError {...error("status")} />
          </div>
        ) : null}
      </div>
      <div>
        <label htmlFor="idea-content" className="block text-sm font-medium">
          Content <span className="font-normal text-zinc-600 dark:text-zinc-400">(markdown)</span>
        </label>
        <textarea {...props("content")} rows={10} className={`${inputClass} mt-1 font-mono`} />
        {note("content")}
        <FieldError {...error("content")} />
      </div>
      <FormError state={state} />
      <button type="submit" disabled={pending || disabled} className={primaryButtonClass}>
        Save idea
      </button>
    </form>
  );
}
