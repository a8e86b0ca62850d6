"use client";

import { ActionButton } from "@/components/forms/ActionButton";
import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";

export interface MemberRow {
  userId: string;
  label: string;
  role: string;
  removeAction: FormAction;
}

export interface InvitationRow {
  id: string;
  /** "ada@example.com" or "@ada". */
  label: string;
  role: string;
  expires: string;
  withdrawAction: FormAction;
}

function InviteForm({ invite }: { invite: FormAction }) {
  const { state, pending, form, field, error } = useActionForm(invite, {
    idPrefix: "invite",
    initial: { role: "member" },
    clearOnSuccess: true,
  });
  return (
    <form {...form} className="grid gap-3 sm:grid-cols-[1fr_8rem_auto] sm:items-start" aria-label="Invite">
      <div>
        <input
          {...field("invitee")}
          placeholder="teammate@example.com or a GitHub login"
          aria-label="Email or GitHub login"
          className={inputClass}
        />
        <FieldError {...error("invitee")} />
      </div>
      <div>
        <select {...field("role")} aria-label="Role" className={inputClass}>
          <option value="member">member</option>
          <option value="owner">owner</option>
        </select>
        <FieldError {...error("role")} />
      </div>
      <button type="submit" disabled={pending} className={primaryButtonClass}>
        Invite
      </button>
      <div className="sm:col-span-3">
        <FormError state={state} />
      </div>
    </form>
  );
}

/**
 * The people of a project: its members, the invitations that wait for a first sign-in, and (for an
 * owner) the form that invites someone by email or GitHub login, with or without an account yet.
 */
export function MembersPanel({
  members,
  invitations,
  invite,
  canEdit,
}: {
  members: MemberRow[];
  invitations: InvitationRow[];
  invite: FormAction;
  canEdit: boolean;
}) {
  return (
    <div className="space-y-4">
      <ul className="divide-y divide-zinc-200 rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
        {members.map((m) => (
          <li key={m.userId} className="flex flex-wrap items-center gap-3 px-3 py-2 text-sm">
            <span className="min-w-0 break-all">{m.label}</span>
            <span className="ml-auto text-xs text-zinc-600 dark:text-zinc-400">{m.role}</span>
            {canEdit ? <ActionButton action={m.removeAction} label="Remove" danger /> : null}
          </li>
        ))}
      </ul>
      {invitations.length > 0 ? (
        <ul aria-label="Invitations" className="space-y-1 text-sm">
          {invitations.map((i) => (
            <li
              key={i.id}
              className="flex flex-wrap items-center gap-3 rounded-md bg-zinc-50 px-3 py-2 dark:bg-zinc-900"
            >
              <span className="min-w-0 break-all">{i.label}</span>
              <span className="text-xs text-zinc-600 dark:text-zinc-400">
                invited as {i.role}, until {i.expires}
              </span>
              {canEdit ? (
                <span className="ml-auto">
                  <ActionButton action={i.withdrawAction} label="Withdraw" />
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {canEdit ? <InviteForm invite={invite} /> : null}
    </div>
  );
}
