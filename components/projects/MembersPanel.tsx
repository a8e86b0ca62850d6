"use client";

import { useActionState } from "react";
import { ActionButton } from "@/components/forms/ActionButton";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";

export interface MemberRow {
  userId: string;
  label: string;
  role: string;
  removeAction: FormAction;
}

export function MembersPanel({ members, add, canEdit }: { members: MemberRow[]; add: FormAction; canEdit: boolean }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(add, {});
  return (
    <div className="space-y-4">
      <ul className="divide-y divide-zinc-200 rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
        {members.map((m) => (
          <li key={m.userId} className="flex items-center gap-3 px-3 py-2 text-sm">
            <span>{m.label}</span>
            <span className="ml-auto text-xs text-zinc-500">{m.role}</span>
            {canEdit ? <ActionButton action={m.removeAction} label="Remove" danger /> : null}
          </li>
        ))}
      </ul>
      {canEdit ? (
        <form
          action={action}
          className="grid gap-3 sm:grid-cols-[1fr_8rem_auto] sm:items-start"
          aria-label="Add member"
        >
          <div>
            <input
              name="email"
              type="email"
              placeholder="teammate@example.com"
              aria-label="Member email"
              className={inputClass}
            />
            <FieldError id="member-email-error" message={state.fields?.email} />
          </div>
          <select name="role" aria-label="Member role" defaultValue="member" className={inputClass}>
            <option value="member">member</option>
            <option value="owner">owner</option>
          </select>
          <button type="submit" disabled={pending} className={primaryButtonClass}>
            Add member
          </button>
          <div className="sm:col-span-3">
            <FormError state={state} />
          </div>
        </form>
      ) : null}
    </div>
  );
}
