"use client";

import { useActionState } from "react";
import { ActionButton } from "@/components/forms/ActionButton";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";

export interface SecretRow {
  name: string;
  kind: string;
  masked: string;
  deleteAction: FormAction;
}

export function SecretsPanel({ secrets, save, canEdit }: { secrets: SecretRow[]; save: FormAction; canEdit: boolean }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(save, {});
  return (
    <div className="space-y-4">
      {secrets.length === 0 ? (
        <p className="text-sm text-zinc-500">No secrets stored.</p>
      ) : (
        <ul className="divide-y divide-zinc-200 rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
          {secrets.map((s) => (
            <li key={s.name} className="flex items-center gap-3 px-3 py-2 text-sm">
              <span className="font-mono">{s.name}</span>
              <span className="text-xs text-zinc-500">{s.kind}</span>
              <span className="ml-auto font-mono text-zinc-500" data-testid="secret-masked">
                {s.masked}
              </span>
              {canEdit ? <ActionButton action={s.deleteAction} label="Delete" danger /> : null}
            </li>
          ))}
        </ul>
      )}
      {canEdit ? (
        <form
          action={action}
          className="grid gap-3 sm:grid-cols-[1fr_10rem_1fr_auto] sm:items-start"
          aria-label="Add secret"
        >
          <div>
            <input name="name" placeholder="ANTHROPIC_API_KEY" aria-label="Secret name" className={inputClass} />
            <FieldError id="secret-name-error" message={state.fields?.name} />
          </div>
          <select name="kind" aria-label="Secret kind" defaultValue="model_api_key" className={inputClass}>
            <option value="model_api_key">Model API key</option>
            <option value="git_token">Git token</option>
            <option value="other">Other</option>
          </select>
          <div>
            <input
              name="value"
              type="password"
              autoComplete="off"
              placeholder="value"
              aria-label="Secret value"
              className={inputClass}
            />
            <FieldError id="secret-value-error" message={state.fields?.value} />
          </div>
          <button type="submit" disabled={pending} className={primaryButtonClass}>
            Save secret
          </button>
          <div className="sm:col-span-4">
            <FormError state={state} />
          </div>
        </form>
      ) : null}
    </div>
  );
}
