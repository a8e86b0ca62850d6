import { type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { costOf, FREE_MODELS } from "./prices";

/** Token usage added up, and what it cost. */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  /** The part of `inputTokens` read from a cache. */
  cachedTokens: number;
  /** US dollars; null when some of the usage ran on a model without a price. */
  costUsd: number | null;
  /** The models whose usage has no price (set one in the price table). */
  unpricedModels: string[];
}

/** A task's own usage and its whole subtree's (itself, its children, theirs, …). */
export interface TaskUsage extends UsageTotals {
  subtree: UsageTotals;
}

const NO_USAGE: UsageTotals = {
  inputTokens: 0,
  outputTokens: 0,
  cachedTokens: 0,
  costUsd: 0,
  unpricedModels: [],
};

/** One model's usage within one scope, with its table price when it has one. */
interface ModelUsageRow {
  scope: string;
  model: string;
  input: number;
  output: number;
  cached: number;
  /** What the agents said their turns cost (turns they priced themselves). */
  reported: number | null;
  /** The tokens of the turns the agent did not price: the table prices them. */
  unreported_rows: number;
  unreported_input: number;
  unreported_output: number;
  unreported_cached: number;
  input_per_million: number | null;
  output_per_million: number | null;
  cached_input_per_million: number | null;
}

/** Per scope and model: the token sums, the agents' own costs, the rest to price and the price. */
function modelUsageColumns(scope: SQL): SQL {
  return sql`${scope} AS scope, u.model,
    sum(u.input_tokens) AS input, sum(u.output_tokens) AS output, sum(u.cached_tokens) AS cached,
    sum(u.reported_cost_usd) AS reported,
    sum(u.reported_cost_usd IS NULL) AS unreported_rows,
    sum(CASE WHEN u.reported_cost_usd IS NULL THEN u.input_tokens ELSE 0 END) AS unreported_input,
    sum(CASE WHEN u.reported_cost_usd IS NULL THEN u.output_tokens ELSE 0 END) AS unreported_output,
    sum(CASE WHEN u.reported_cost_usd IS NULL THEN u.cached_tokens ELSE 0 END) AS unreported_cached,
    p.input_per_million, p.output_per_million, p.cached_input_per_million`;
}

/**
 * Adds up one scope's rows. A turn the agent priced costs what it said; any other costs its tokens
 * at the model's table price. Usage of a model without a price makes the cost unknown (null), never
 * a guess, and names the model.
 */
function totalsOf(rows: ModelUsageRow[]): UsageTotals {
  const totals: UsageTotals = { ...NO_USAGE, unpricedModels: [] };
  let cost = 0;
  for (const row of rows) {
    totals.inputTokens += Number(row.input);
    totals.outputTokens += Number(row.output);
    totals.cachedTokens += Number(row.cached);
    cost += Number(row.reported ?? 0);
    if (Number(row.unreported_rows) === 0 || FREE_MODELS.has(row.model)) continue;
    if (row.input_per_million === null || row.output_per_million === null) {
      totals.unpricedModels.push(row.model);
      continue;
    }
    cost += costOf(
      {
        inputTokens: Number(row.unreported_input),
        outputTokens: Number(row.unreported_output),
        cachedTokens: Number(row.unreported_cached),
      },
      {
        inputPerMillion: row.input_per_million,
        outputPerMillion: row.output_per_million,
        cachedInputPerMillion: row.cached_input_per_million,
      },
    );
  }
  totals.unpricedModels.sort();
  totals.costUsd = totals.unpricedModels.length > 0 ? null : cost;
  return totals;
}

/** A task's own usage and its subtree's, in one query down the tree by parent_id. */
export async function taskUsage(db: Db, taskId: string): Promise<TaskUsage> {
  const rows = await db.all<ModelUsageRow>(sql`
    WITH RECURSIVE subtree(id) AS (
      SELECT ${taskId}
      UNION ALL SELECT t.id FROM tasks t JOIN subtree s ON t.parent_id = s.id
    )
    SELECT ${modelUsageColumns(sql`CASE WHEN u.task_id = ${taskId} THEN 'own' ELSE 'below' END`)}
    FROM subtree s JOIN task_usage u ON u.task_id = s.id
    LEFT JOIN model_prices p ON p.model = u.model
    GROUP BY scope, u.model`);
  return { ...totalsOf(rows.filter((r) => r.scope === "own")), subtree: totalsOf(rows) };
}

/**
 * The whole tree's usage of each of these tasks (the task and every task below it), by task id, in
 * one query down the trees by parent_id; a tree without usage is left out.
 */
export async function treeUsage(db: Db, taskIds: SQL): Promise<Map<string, UsageTotals>> {
  const rows = await db.all<ModelUsageRow>(sql`
    WITH RECURSIVE tree(top, id) AS (
      SELECT id, id FROM tasks WHERE id IN ${taskIds}
      UNION ALL SELECT tree.top, t.id FROM tasks t JOIN tree ON t.parent_id = tree.id
    )
    SELECT ${modelUsageColumns(sql`tree.top`)}
    FROM tree JOIN task_usage u ON u.task_id = tree.id
    LEFT JOIN model_prices p ON p.model = u.model
    GROUP BY scope, u.model`);
  const byTop = new Map<string, ModelUsageRow[]>();
  for (const row of rows) byTop.set(row.scope, [...(byTop.get(row.scope) ?? []), row]);
  return new Map([...byTop].map(([taskId, treeRows]) => [taskId, totalsOf(treeRows)]));
}

/** How many usage rows a task's subtree has: cheap to poll, and it grows with every reported turn. */
export async function subtreeUsageCount(db: Db, taskId: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql`
    WITH RECURSIVE subtree(id) AS (
      SELECT ${taskId}
      UNION ALL SELECT t.id FROM tasks t JOIN subtree s ON t.parent_id = s.id
    )
    SELECT count(*) AS n FROM subtree s JOIN task_usage u ON u.task_id = s.id`);
  return Number(row?.n ?? 0);
}
