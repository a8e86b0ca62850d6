import { formatCost, formatTokens } from "@/lib/usage/format";
import type { TaskJson } from "./task-json";

type Totals = TaskJson["usage"]["subtree"];

function Row({ label, totals, testId }: { label: string; totals: Totals; testId: string }) {
  return (
    <div data-testid={testId} className="space-y-0.5">
      <dt className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd className="text-sm">
        <span data-testid="usage-tokens" className="font-medium">
          {formatTokens(totals.inputTokens + totals.outputTokens)} tokens
        </span>{" "}
        ·{" "}
        <span
          data-testid="usage-cost"
          className={totals.costUsd === null ? "text-amber-800 dark:text-amber-300" : "font-medium"}
        >
          {formatCost(totals)}
        </span>
        <div className="text-xs text-zinc-600 dark:text-zinc-400">
          {formatTokens(totals.inputTokens)} in ({formatTokens(totals.cachedTokens)} cached) ·{" "}
          {formatTokens(totals.outputTokens)} out
        </div>
      </dd>
    </div>
  );
}

/** What the task's turns used and cost, and what its whole subtree's did. */
export function TaskUsage({ usage, hasChildren }: { usage: TaskJson["usage"]; hasChildren: boolean }) {
  if (usage.subtree.inputTokens + usage.subtree.outputTokens === 0) {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">No usage reported yet.</p>;
  }
  return (
    <dl className="space-y-3">
      <Row label="This task" totals={usage} testId="task-usage-own" />
      {hasChildren ? <Row label="With its subtasks" totals={usage.subtree} testId="task-usage-subtree" /> : null}
    </dl>
  );
}
