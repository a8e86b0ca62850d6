"use client";

import { useActionState } from "react";
import { ActionButton } from "@/components/forms/ActionButton";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FormError } from "@/components/forms/FieldError";
import { primaryButtonClass } from "@/components/forms/styles";
import type { MergeStrategy } from "@/db/schema";
import { AskAgentToResolve } from "./AskAgentToResolve";

const STRATEGIES: { value: MergeStrategy; label: string }[] = [
  { value: "merge", label: "Merge commit" },
  { value: "squash", label: "Squash" },
  { value: "rebase", label: "Rebase" },
];

/** Why an open PR cannot merge, in words; undefined when it can. */
function blockedReason(mergeable: boolean, conflicts: string[], baseBranch: string): string | undefined {
  if (mergeable) return undefined;
  if (conflicts.length > 0) return `It conflicts with ${baseBranch} in the files listed below.`;
  return "Its branch cannot be read, so it cannot be merged.";
}

/**
 * Merge (with a strategy) and Close for an open PR. Merge is disabled, with the reason beside it,
 * when git says the PR does not merge; the conflicting paths are listed. A merge refused when
 * tried (the base moved, a checked-out base with uncommitted changes) shows SAM's message.
 * Conflicts can be handed to the agent.
 */
export function MergeBox({
  mergeable,
  conflicts,
  baseBranch,
  merge,
  close,
  resolve,
}: {
  mergeable: boolean;
  conflicts: string[];
  baseBranch: string;
  merge: FormAction;
  close: FormAction;
  resolve: FormAction;
}) {
  const [state, run, pending] = useActionState<ActionState, FormData>(merge, {});
  const blocked = blockedReason(mergeable, conflicts, baseBranch);
  return (
    <section
      aria-labelledby="merge-heading"
      data-testid="merge-box"
      className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
    >
      <h2 id="merge-heading" className="font-medium">
        Merge into <span className="font-mono">{baseBranch}</span>
      </h2>
      <form action={run} className="flex flex-wrap items-center gap-2">
        <label htmlFor="merge-strategy" className="sr-only">
          Merge strategy
        </label>
        <select
          id="merge-strategy"
          name="strategy"
          defaultValue="merge"
          disabled={Boolean(blocked)}
          className="rounded-md border border-zinc-300 bg-white px-2 py-2 text-sm disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-900"
        >
          {STRATEGIES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
        <button
          type="submit"
          disabled={Boolean(blocked) || pending}
          aria-describedby={blocked ? "merge-blocked" : undefined}
          className={primaryButtonClass}
        >
          {pending ? "Merging…" : "Merge"}
        </button>
        {blocked ? (
          <p id="merge-blocked" data-testid="merge-blocked" className="text-sm text-amber-900 dark:text-amber-200">
            {blocked}
          </p>
        ) : null}
      </form>
      {conflicts.length > 0 ? (
        <div data-testid="merge-conflicts">
          <h3 className="text-sm font-medium">Conflicting files</h3>
          <ul className="mt-1 list-disc pl-5 font-mono text-sm">
            {conflicts.map((path) => (
              <li key={path}>{path}</li>
            ))}
          </ul>
          <div className="mt-3">
            <AskAgentToResolve resolve={resolve} />
          </div>
        </div>
      ) : null}
      <div data-testid="merge-result">
        <FormError state={state} />
      </div>
      <ActionButton action={close} label="Close without merging" danger />
    </section>
  );
}
