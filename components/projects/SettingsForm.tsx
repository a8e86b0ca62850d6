"use client";

import { useActionState } from "react";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";

export interface SettingsValues {
  maxDepth: number;
  maxChildren: number;
  maxActiveDispatched: number;
  maxRetries: number;
  stopGraceSeconds: number;
  harness: string;
  model: string;
  network: string;
}

const LIMITS: { name: keyof SettingsValues; label: string; min: number; max: number }[] = [
  { name: "maxDepth", label: "Max depth", min: 1, max: 10 },
  { name: "maxChildren", label: "Children per parent", min: 1, max: 20 },
  { name: "maxActiveDispatched", label: "Active dispatched tasks", min: 1, max: 50 },
  { name: "maxRetries", label: "Retries per lineage", min: 0, max: 10 },
  { name: "stopGraceSeconds", label: "Stop grace (seconds)", min: 0, max: 30 },
];

export function SettingsForm({
  values,
  harnesses,
  canEdit,
  save,
}: {
  values: SettingsValues;
  harnesses: readonly string[];
  canEdit: boolean;
  save: FormAction;
}) {
  const [state, action, pending] = useActionState<ActionState, FormData>(save, {});
  return (
    // noValidate: the server names the offending field, the same for browsers and scripts.
    <form action={action} noValidate className="space-y-4" aria-label="Project settings">
      <FormError state={state} />
      <fieldset disabled={!canEdit} className="grid gap-4 sm:grid-cols-2">
        {LIMITS.map((limit) => (
          <div key={limit.name}>
            <label htmlFor={limit.name} className="mb-1 block text-sm font-medium">
              {limit.label}{" "}
              <span className="font-normal text-zinc-500">
                ({limit.min}–{limit.max})
              </span>
            </label>
            <input
              id={limit.name}
              name={limit.name}
              type="number"
              defaultValue={values[limit.name]}
              aria-describedby={`${limit.name}-error`}
              aria-invalid={state.fields?.[limit.name] ? true : undefined}
              className={inputClass}
            />
            <FieldError id={`${limit.name}-error`} message={state.fields?.[limit.name]} />
          </div>
        ))}
        <div>
          <label htmlFor="harness" className="mb-1 block text-sm font-medium">
            Agent harness
          </label>
          <select id="harness" name="harness" defaultValue={values.harness} className={inputClass}>
            {harnesses.map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
          <FieldError id="harness-error" message={state.fields?.harness} />
        </div>
        <div>
          <label htmlFor="model" className="mb-1 block text-sm font-medium">
            Model <span className="font-normal text-zinc-500">(scripted or provider:model)</span>
          </label>
          <input
            id="model"
            name="model"
            defaultValue={values.model}
            aria-describedby="model-error"
            className={inputClass}
          />
          <FieldError id="model-error" message={state.fields?.model} />
        </div>
        <div>
          <label htmlFor="network" className="mb-1 block text-sm font-medium">
            Agent network
          </label>
          <select
            id="network"
            name="network"
            defaultValue={values.network}
            aria-describedby="network-error"
            className={inputClass}
          >
            <option value="open">open: agents can reach the internet (to install packages)</option>
            <option value="none">none: nothing but SAM&apos;s MCP endpoint</option>
          </select>
          <FieldError id="network-error" message={state.fields?.network} />
        </div>
      </fieldset>
      {canEdit ? (
        <button type="submit" disabled={pending} className={primaryButtonClass}>
          {pending ? "Saving…" : "Save settings"}
        </button>
      ) : (
        <p className="text-sm text-zinc-500">Only project owners can change settings.</p>
      )}
    </form>
  );
}
