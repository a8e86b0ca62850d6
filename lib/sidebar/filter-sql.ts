import { type SQL, sql } from "drizzle-orm";
import { containsPattern } from "../search/like";
import { ACTIVE_STATUSES } from "../tasks/statuses";
import type { SidebarFilter } from "./filters";

// Conditions on one task row `t`, shared by the flags of a group and the filters.
export const IS_ACTIVE = sql.raw(`t.status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`);
export const IS_FAILED = sql.raw(`t.status = 'failed' AND NOT EXISTS (
  SELECT 1 FROM tasks r WHERE r.lineage_id = t.lineage_id AND r.retry_count > t.retry_count)`);
export const IS_BLOCKED = sql.raw(`t.status = 'queued' AND EXISTS (
  SELECT 1 FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_task_id
  WHERE d.task_id = t.id AND dt.status <> 'completed')`);

/** The roots of the project with a task for which `condition` holds (found through the status index). */
function rootsWhere(projectId: string, condition: SQL): SQL {
  return sql`SELECT t.root_id FROM tasks t WHERE t.project_id = ${projectId} AND ${condition}`;
}

/** The condition on a root row `root` that selects the groups of a filter (see `groupMatches`). */
export function filterCondition(filter: SidebarFilter, projectId: string): SQL {
  switch (filter) {
    case "all":
      return sql`1 = 1`;
    case "active":
      return sql`root.id IN (${rootsWhere(projectId, IS_ACTIVE)})`;
    case "blocked":
      return sql`root.id IN (${rootsWhere(projectId, IS_BLOCKED)})`;
    case "failed":
      return sql`root.id IN (${rootsWhere(projectId, IS_FAILED)})`;
    case "done":
      return sql`root.status IN ('completed', 'cancelled') AND root.id NOT IN (${rootsWhere(projectId, IS_ACTIVE)})`;
  }
}

/** How many groups of the project are active, blocked and failed: the counts beside the filters. */
export function filterCountsQuery(projectId: string): SQL {
  return sql`SELECT
    (SELECT count(DISTINCT t.root_id) FROM tasks t WHERE t.project_id = ${projectId} AND ${IS_ACTIVE}) AS active,
    (SELECT count(DISTINCT t.root_id) FROM tasks t WHERE t.project_id = ${projectId} AND ${IS_BLOCKED}) AS blocked,
    (SELECT count(DISTINCT t.root_id) FROM tasks t WHERE t.project_id = ${projectId} AND ${IS_FAILED}) AS failed`;
}

/** Groups whose root or a direct subtask has the search text in its title (as `groupMatchesQuery`). */
export function queryCondition(query: string, projectId: string): SQL {
  const q = query.trim();
  if (q === "") return sql`1 = 1`;
  return sql`root.id IN (SELECT t.root_id FROM tasks t WHERE t.project_id = ${projectId} AND t.depth <= 1
    AND lower(t.title) LIKE ${containsPattern(q)} ESCAPE '\\')`;
}
