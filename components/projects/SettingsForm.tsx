"use client";

import { useState } from "react";
import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";
import { ModelFields, type ProviderChoice } from "./ModelFields";

export interface SettingsValues {
  maxDepth: number;
  maxChildren: number;
  maxActiveDispatched: number;
  maxRetries: number;
  stopGraceSeconds: number;
  harness: string;
  model: string;
  network: string;
  deleteBranches: boolean;
  githubUrl: string | null;
  modelBaseUrl: string | null;
  agentCommand: string | null;
  permissionPolicy: string;
  /** The labels a node must have to run the project's tasks, as stored (a JSON array). */
  nodeLabels: string;
}

/** The stored label list as the field shows it: `gpu, eu`. */
function labelsText(json: string): string {
  try {
    const labels: unknown = JSON.parse(json);
    return Array.isArray(labels) ? labels.join(", ") : "";
  } catch {
    return "";
  }
}

/** `scripted`, or the provider and model id of `provider:model`, as the model fields show them. */
function modelParts(model: string): { provider: string; modelId: string } {
  if (model === "scripted") return { provider: "scripted", modelId: "" };
  const colon = model.indexOf(":");
  return { provider: model.slice(0, colon), modelId: model.slice(colon + 1) };
}

const LIMITS: { name: keyof SettingsValues; label: string; min: number; max: number }[] = [
  { name: "maxDepth", label: "Max depth", min: 1, max: 10 },
  { name: "maxChildren", label: "Children per parent", min: 1, max: 20 },
  { name: "maxActiveDispatched", label: "Active dispatched tasks", min: 1, max: 50 },
  { name: "maxRetries", label: "Retries per lineage", min: 0, max: 10 },
  { name: "stopGraceSeconds", label: "Stop grace (seconds)", min: 0, max: 30 },
];

export function SettingsForm({
  projectId,
  values,
  harnesses,
  providers,
  canEdit,
  save,
}: {
  projectId: string;
  values: SettingsValues;
  harnesses: readonly string[];
  providers: ProviderChoice[];
  canEdit: boolean;
  save: FormAction;
}) {
  const { state, pending, form, field, error } = useActionForm(save, {
    initial: {
      ...values,
      deleteBranches: String(values.deleteBranches),
      githubUrl: values.githubUrl ?? "",
      agentCommand: values.agentCommand ?? "",
      modelBaseUrl: values.modelBaseUrl ?? "",
      nodeLabels: labelsText(values.nodeLabels),
    },
  });
  const [harness, setHarness] = useState(values.harness);
  const model = modelParts(values.model);
  return (
    // noValidate: the server names the offending field, the same for browsers and scripts.
    <form {...form} noValidate className="space-y-4" aria-label="Project settings">
      <FormError state={state} />
      <fieldset disabled={!canEdit} className="grid gap-4 sm:grid-cols-2">
        {LIMITS.map((limit) => (
          <div key={limit.name}>
            <label htmlFor={limit.name} className="mb-1 block text-sm font-medium">
              {limit.label}{" "}
              <span className="font-normal text-zinc-600 dark:text-zinc-400">
                ({limit.min}–{limit.max})
              </span>
            </label>
            <input {...field(limit.name)} type="number" className={inputClass} />
            <FieldError {...error(limit.name)} />
          </div>
        ))}
        <div>
          <label htmlFor="harness" className="mb-1 block text-sm font-medium">
            Agent harness
          </label>
          <select {...field("harness")} onChange={(e) => setHarness(e.target.value)} className={inputClass}>
            {harnesses.map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
          <FieldError {...error("harness")} />
        </div>
        {harness === "acp" ? (
          <div>
            <label htmlFor="agentCommand" className="mb-1 block text-sm font-medium">
              Agent command <span className="font-normal text-zinc-600 dark:text-zinc-400">(starts the ACP agent)</span>
            </label>
            <input {...field("agentCommand")} placeholder="my-agent --acp" className={inputClass} />
            <FieldError {...error("agentCommand")} />
          </div>
        ) : null}
        <div>
          <label htmlFor="permissionPolicy" className="mb-1 block text-sm font-medium">
            Agent permission requests
          </label>
          <select {...field("permissionPolicy")} className={inputClass}>
            <option value="allow">allowed (the agent works inside its sandbox)</option>
            <option value="deny">denied</option>
          </select>
          <FieldError {...error("permissionPolicy")} />
        </div>
        <ModelFields
          projectId={projectId}
          providers={providers}
          initial={{
            provider: state.values?.provider ?? model.provider,
            modelId: state.values?.modelId ?? model.modelId,
            modelBaseUrl: state.values?.modelBaseUrl ?? values.modelBaseUrl ?? "",
          }}
          errors={{
            provider: state.fields?.provider,
            modelId: state.fields?.modelId,
            modelBaseUrl: state.fields?.modelBaseUrl,
          }}
        />
        <div>
          <label htmlFor="network" className="mb-1 block text-sm font-medium">
            Agent network
          </label>
          <select {...field("network")} className={inputClass}>
            <option value="open">open: agents can reach the internet (to install packages)</option>
            <option value="none">none: nothing but SAM&apos;s MCP endpoint</option>
          </select>
          <FieldError {...error("network")} />
        </div>
        <div>
          <label htmlFor="deleteBranches" className="mb-1 block text-sm font-medium">
            Pull request branches
          </label>
          <select {...field("deleteBranches")} className={inputClass}>
            <option value="true">deleted once merged or closed</option>
            <option value="false">kept in the repository</option>
          </select>
          <FieldError {...error("deleteBranches")} />
        </div>
        <div>
          <label htmlFor="nodeLabels" className="mb-1 block text-sm font-medium">
            Node labels{" "}
            <span className="font-normal text-zinc-600 dark:text-zinc-400">
              (tasks run only on nodes with all of them)
            </span>
          </label>
          <input {...field("nodeLabels")} placeholder="gpu, eu" className={inputClass} />
          <FieldError {...error("nodeLabels")} />
        </div>
        <div>
          <label htmlFor="githubUrl" className="mb-1 block text-sm font-medium">
            GitHub Enterprise URL{" "}
            <span className="font-normal text-zinc-600 dark:text-zinc-400">(empty for github.com)</span>
          </label>
          <input {...field("githubUrl")} type="url" placeholder="https://github.example.com" className={inputClass} />
          <FieldError {...error("githubUrl")} />
        </div>
      </fieldset>
      {canEdit ? (
        <button type="submit" disabled={pending} className={primaryButtonClass}>
          {pending ? "Saving…" : "Save settings"}
        </button>
      ) : (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">Only project owners can change settings.</p>
      )}
    </form>
  );
}
