"use client";

import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";

/** Ask the agent to resolve: a revision task merges the base into the PR's branch and resolves the conflicts. */
export function AskAgentToResolve({ resolve }: { resolve: FormAction }) {
  const { state, pending, form, field, error } = useActionForm(resolve, { idPrefix: "resolve" });
  return (
    <form {...form} aria-label="Ask the agent to resolve" data-testid="ask-agent-to-resolve" className="space-y-2">
      <label htmlFor={field("note").id} className="block text-sm text-zinc-600 dark:text-zinc-400">
        A note for the agent (optional)
      </label>
      <textarea {...field("note")} rows={2} className={inputClass} />
      <FieldError {...error("note")} />
      <FormError state={state} />
      <button
        type="submit"
        disabled={pending}
        className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 disabled:opacity-60 dark:border-zinc-700 dark:hover:bg-zinc-900"
      >
        {pending ? "Asking…" : "Ask the agent to resolve"}
      </button>
    </form>
  );
}
