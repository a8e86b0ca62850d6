"use client";

import { useActionState } from "react";
import type { ActionState, FormAction } from "../forms/action-state";
import { FormError } from "../forms/FieldError";
import { primaryButtonClass } from "../forms/styles";

/** Execute, with its answer kept in view while the page follows the idea into `executing`. */
export function ExecuteIdeaButton({
  execute,
  executing,
  again,
}: {
  execute: FormAction;
  executing: boolean;
  /** The idea ran before: the button says it runs again. */
  again: boolean;
}) {
  const [state, run, pending] = useActionState<ActionState, FormData>(execute, {});
  return (
    <form action={run} className="space-y-2">
      <button type="submit" disabled={pending || executing} className={primaryButtonClass}>
        {executing ? "Executing…" : again ? "Execute again" : "Execute"}
      </button>
      <FormError state={state} />
    </form>
  );
}
