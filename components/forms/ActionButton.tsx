"use client";

import { useActionState } from "react";
import type { ActionState, FormAction } from "./action-state";
import { FormError } from "./FieldError";

/** A one-button form for an action that needs no input (delete, archive). */
export function ActionButton({ action, label, danger }: { action: FormAction; label: string; danger?: boolean }) {
  const [state, run, pending] = useActionState<ActionState, FormData>(action, {});
  return (
    <form action={run} className="inline-flex flex-col gap-1">
      <button
        type="submit"
        disabled={pending}
        className={`rounded-md border px-3 py-1.5 text-sm disabled:opacity-60 ${
          danger
            ? "border-red-300 text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-400 dark:hover:bg-red-950"
            : "border-zinc-300 hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-900"
        }`}
      >
        {label}
      </button>
      {state.error ? <FormError state={state} /> : null}
    </form>
  );
}
