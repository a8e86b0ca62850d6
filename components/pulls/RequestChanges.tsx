"use client";

import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";

/**
 * Request changes: the PR's unsent comments, and what is typed here, go to the task's agent (its
 * session if it is still alive, otherwise a revision task on the same branch), which pushes again.
 */
export function RequestChanges({ request }: { request: FormAction }) {
  const { state, pending, form, field, error } = useActionForm(request, {
    idPrefix: "request-changes",
    clearOnSuccess: true,
  });
  return (
    <form
      {...form}
      aria-label="Request changes"
      data-testid="request-changes"
      className="space-y-2 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
    >
      <h2 className="font-medium">Request changes</h2>
      <label htmlFor={field("body").id} className="block text-sm text-zinc-600 dark:text-zinc-400">
        What should change (the comments go too)
      </label>
      <textarea {...field("body")} rows={3} className={inputClass} />
      <FieldError {...error("body")} />
      <FormError state={state} />
      <button
        type="submit"
        disabled={pending}
        className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 disabled:opacity-60 dark:border-zinc-700 dark:hover:bg-zinc-900"
      >
        {pending ? "Sending…" : "Request changes"}
      </button>
    </form>
  );
}
