"use client";

import type { ActionState } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";

export type NewTokenState = ActionState & { token?: string };

/** Names and mints a personal API token, then shows it this once. */
export function NewTokenForm({ mint }: { mint: (state: NewTokenState, formData: FormData) => Promise<NewTokenState> }) {
  const { state, pending, form, field, error } = useActionForm(mint, {
    idPrefix: "token",
    initial: { days: "90" },
    clearOnSuccess: true,
  });
  return (
    <div className="space-y-3">
      <form {...form} aria-label="New token" className="grid gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-start">
        <div>
          <input {...field("name")} placeholder="deploy script" aria-label="Token name" className={inputClass} />
          <FieldError {...error("name")} />
        </div>
        <div>
          <select {...field("days")} aria-label="Expires after" className={inputClass}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="365">1 year</option>
          </select>
          <FieldError {...error("days")} />
        </div>
        <button type="submit" disabled={pending} className={primaryButtonClass}>
          Create token
        </button>
      </form>
      {state.token ? (
        <div role="status" className="space-y-1 rounded-md bg-emerald-50 px-3 py-2 text-sm dark:bg-emerald-950">
          <p>Copy it now: it is not shown again. {state.message}</p>
          <code data-testid="new-token" className="block break-all font-mono">
            {state.token}
          </code>
        </div>
      ) : (
        <FormError state={state} />
      )}
    </div>
  );
}
