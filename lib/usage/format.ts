import type { UsageTotals } from "./task-usage";

/** A token count as people read it: 950, 12.3k, 4.1M. */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${trim((n / 1000).toFixed(n < 10_000 ? 2 : 1))}k`;
  return `${trim((n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1))}M`;
}

/** Dollars: cents from a cent up, two significant digits below it (a turn often costs less). */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${trim(usd.toFixed(1 - Math.floor(Math.log10(usd))))}`;
}

function trim(fixed: string): string {
  return fixed.replace(/\.?0+$/, "");
}

/** What the usage cost, or which models lack a price. */
export function formatCost(totals: UsageTotals): string {
  if (totals.costUsd !== null) return formatUsd(totals.costUsd);
  return `no price for ${totals.unpricedModels.join(", ")}`;
}

/** One line: "12.3k tokens · $0.04". */
export function formatUsage(totals: UsageTotals): string {
  return `${formatTokens(totals.inputTokens + totals.outputTokens)} tokens · ${formatCost(totals)}`;
}
