"use client";

import { useActionState } from "react";
import { ActionButton } from "@/components/forms/ActionButton";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";

export interface MemberRow {
  userId: string;
  label: string;
  role: string;
  removeAction: FormAction;
}

const input =
  "w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900";

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
              className={input}
            />
            <FieldError id="member-email-error" message={state.fields?.email} />
          </div>
          <select name="role" aria-label="Member role" defaultValue="member" className={input}>
            <option value="member">member</option>
            <option value="owner">owner</option>
          </select>
          <button
            type="submit"
            disabled={pending}
            className="rounded-md bg-zinc-900 px-4 py-2 text-sm font-medium text-white disabled:opacity-60 dark:bg-zinc-100 dark:text-zinc-900"
          >
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
