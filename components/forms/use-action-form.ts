"use client";

import { type FormEvent, useActionState, useEffect, useRef } from "react";
import type { ActionState } from "./action-state";

export interface ActionFormOptions {
  /** The values the fields start with (a stored setting, an idea's title). */
  initial?: Record<string, string | number>;
  /** Prefix of the fields' ids, for a page with two forms that share a field name. */
  idPrefix?: string;
  /** Empty the form once the action succeeds (a form that adds something); others keep what was saved. */
  clearOnSuccess?: boolean;
}

/**
 * One form bound to a server action, keeping what the user typed. React resets a form after its
 * action; that reset is cancelled unless the form adds things and the action succeeded, and the
 * submitted values (which the action returns on a refusal) are the fields' defaults, so they also
 * come back when the form was sent before the page was interactive. After a refusal the first
 * field named in it takes the focus.
 */
export function useActionForm<S extends ActionState>(
  action: (state: S, formData: FormData) => Promise<S>,
  { initial = {}, idPrefix, clearOnSuccess = false }: ActionFormOptions = {},
) {
  const [state, run, pending] = useActionState<S, FormData>(action, {} as Awaited<S>);
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state.fields && Object.keys(state.fields).length > 0) {
      ref.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
    }
  }, [state]);

  const idOf = (name: string) => (idPrefix ? `${idPrefix}-${name}` : name);
  const keep = !(clearOnSuccess && state.ok);
  return {
    state,
    pending,
    /** Spread on the <form>. */
    form: {
      ref,
      action: run,
      onReset: keep ? (e: FormEvent<HTMLFormElement>) => e.preventDefault() : undefined,
    },
    /** Spread on the input, select or textarea named `name`. */
    field(name: string) {
      const message = state.fields?.[name];
      const initialValue = initial[name];
      return {
        id: idOf(name),
        name,
        defaultValue: state.values?.[name] ?? (initialValue === undefined ? undefined : String(initialValue)),
        "aria-invalid": message ? true : undefined,
        "aria-describedby": message ? `${idOf(name)}-error` : undefined,
      };
    },
    /** Spread on the <FieldError> of field `name`. */
    error(name: string) {
      return { id: `${idOf(name)}-error`, message: state.fields?.[name] };
    },
  };
}
