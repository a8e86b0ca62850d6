"use client";

import { ActionButton } from "@/components/forms/ActionButton";
import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";

export interface SecretRow {
  name: string;
  kind: string;
  masked: string;
  deleteAction: FormAction;
}

function AddSecretForm({ save }: { save: FormAction }) {
  const { state, pending, form, field, error } = useActionForm(save, {
    idPrefix: "secret",
    initial: { kind: "model_api_key" },
    clearOnSuccess: true,
  });
  return (
    <form {...form} className="grid gap-3 sm:grid-cols-[1fr_10rem_1fr_auto] sm:items-start" aria-label="Add secret">
      <div>
        <input {...field("name")} placeholder="ANTHROPIC_API_KEY" aria-label="Secret name" className={inputClass} />
        <FieldError {...error("name")} />
      </div>
      <div>
        <select {...field("kind")} aria-label="Secret kind" className={inputClass}>
          <option value="model_api_key">Model API key</option>
          <option value="git_token">Git token</option>
          <option value="other">Other</option>
        </select>
        <FieldError {...error("kind")} />
      </div>
      <div>
        <input
          {...field("value")}
          type="password"
          autoComplete="off"
          placeholder="value"
          aria-label="Secret value"
          className={inputClass}
        />
        <FieldError {...error("value")} />
      </div>
      <button type="submit" disabled={pending} className={primaryButtonClass}>
        Save secret
      </button>
      <div className="sm:col-span-4">
        <FormError state={state} />
      </div>
    </form>
  );
}

export function SecretsPanel({ secrets, save, canEdit }: { secrets: SecretRow[]; save: FormAction; canEdit: boolean }) {
  return (
    <div className="space-y-4">
      {secrets.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No secrets stored.</p>
      ) : (
        <ul className="divide-y divide-zinc-200 rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
          {secrets.map((s) => (
            <li key={s.name} className="flex flex-wrap items-center gap-3 px-3 py-2 text-sm">
              <span className="min-w-0 break-all font-mono">{s.name}</span>
              <span className="text-xs text-zinc-600 dark:text-zinc-400">{s.kind}</span>
              <span className="ml-auto font-mono text-zinc-600 dark:text-zinc-400" data-testid="secret-masked">
                {s.masked}
              </span>
              {canEdit ? <ActionButton action={s.deleteAction} label="Delete" danger /> : null}
            </li>
          ))}
        </ul>
      )}
      {canEdit ? <AddSecretForm save={save} /> : null}
    </div>
  );
}
