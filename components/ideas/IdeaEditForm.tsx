"use client";

import { useActionState } from "react";
import type { IdeaStatus } from "@/db/schema";
import type { ActionState, FormAction } from "../forms/action-state";
import { FieldError, FormError } from "../forms/FieldError";
import { inputClass, primaryButtonClass } from "../forms/styles";
import { HAND_MOVED, isMovableStatus } from "./board-columns";
import { PRIORITY_LABEL, STATUS_LABEL } from "./idea-labels";

/** The idea's fields; the status menu offers the hand-moved statuses only. */
export function IdeaEditForm({
  idea,
  save,
  disabled,
}: {
  idea: { title: string; content: string; priority: number; status: IdeaStatus };
  save: FormAction;
  disabled?: boolean;
}) {
  const [state, run, pending] = useActionState<ActionState, FormData>(save, {});
  return (
    <form action={run} className="space-y-3" aria-label="Edit idea">
      <label className="block text-sm font-medium">
        Title
        <input
          name="title"
          defaultValue={idea.title}
          required
          maxLength={200}
          disabled={disabled}
          aria-invalid={state.fields?.title ? true : undefined}
          aria-describedby="idea-title-error"
          className={`${inputClass} mt-1`}
        />
        <FieldError id="idea-title-error" message={state.fields?.title} />
      </label>
      <div className="grid grid-cols-2 gap-3">
        <label className="block text-sm font-medium">
          Priority
          <select
            name="priority"
            defaultValue={String(idea.priority)}
            disabled={disabled}
            className={`${inputClass} mt-1`}
          >
            {[0, 1, 2, 3].map((p) => (
              <option key={p} value={p}>
                {PRIORITY_LABEL[p]}
              </option>
            ))}
          </select>
        </label>
        {isMovableStatus(idea.status) ? (
          <label className="block text-sm font-medium">
            Status
            <select name="status" defaultValue={idea.status} disabled={disabled} className={`${inputClass} mt-1`}>
              {HAND_MOVED.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      <label className="block text-sm font-medium">
        Content <span className="font-normal text-zinc-500">(markdown)</span>
        <textarea
          name="content"
          defaultValue={idea.content}
          rows={10}
          maxLength={65_536}
          disabled={disabled}
          aria-describedby="idea-content-error"
          className={`${inputClass} mt-1 font-mono`}
        />
        <FieldError id="idea-content-error" message={state.fields?.content} />
      </label>
      <FormError state={state} />
      <button type="submit" disabled={pending || disabled} className={primaryButtonClass}>
        Save idea
      </button>
    </form>
  );
}
