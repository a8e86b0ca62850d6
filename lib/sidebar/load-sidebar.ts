import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { TASK_STATUSES, type TaskMode, type TaskStatus } from "@/db/schema";
import { getProjectForUser } from "../projects/projects";
import { ACTIVE_STATUSES, isTerminal } from "../tasks/statuses";
import { treeUsage } from "../usage/task-usage";
import { parseInput } from "../validation";
import { filterCondition, filterCountsQuery, IS_ACTIVE, IS_BLOCKED, IS_FAILED, queryCondition } from "./filter-sql";
import { SIDEBAR_FILTERS } from "./filters";
import type { FilterCounts, SidebarChild, SidebarGroup, SidebarGroupSummary, SidebarPage } from "./types";

export const SIDEBAR_PAGE_SIZE = 30;

// A page cursor: the creation time (epoch ms) and id of the last group of the previous page.
const CURSOR = /^(\d{1,15})_([A-Za-z0-9-]{1,100})$/;

export const sidebarPageInputSchema = z
  .object({
    filter: z.enum(SIDEBAR_FILTERS, { message: `must be one of ${SIDEBAR_FILTERS.join(", ")}` }).default("all"),
    q: z.string().max(200, { message: "must be at most 200 characters" }).default(""),
    cursor: z.string().regex(CURSOR, { message: "must be the nextCursor of a previous page" }).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(SIDEBAR_PAGE_SIZE),
  })
  .strict();

/**
 * One page of a project's sidebar: root tasks (each a session) newest first, with their children.
 * Pages are keyed by (created_at, id) on the (project_id, depth, created_at) index, so a page costs
 * the same however many tasks the project has.
 */
export async function loadSidebarPage(db: Db, userId: string, projectId: string, input: unknown): Promise<SidebarPage> {
  const { filter, q, cursor, limit } = parseInput(sidebarPageInputSchema, input);
  await getProjectForUser(db, userId, projectId);
  // Read before the page: a stream that starts here sees every change the page may have missed.
  const changesAfter = await changeCursor(db, projectId);
  const after = cursor ? CURSOR.exec(cursor) : null;
  const rows = await db.all<{ id: string; created_at: number }>(sql`
    SELECT root.id, root.created_at FROM tasks root
    WHERE root.project_id = ${projectId} AND root.depth = 0 AND ${filterCondition(filter, projectId)}
      AND ${queryCondition(q, projectId)}
      ${
        after
          ? sql`AND (root.created_at < ${Number(after[1])} OR (root.created_at = ${Number(after[1])} AND root.id < ${after[2]}))`
          : sql``
      }
    ORDER BY root.created_at DESC, root.id DESC
    LIMIT ${limit + 1}`);
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [groups, counts] = await Promise.all([loadGroups(db, projectId, ids), filterCounts(db, projectId)]);
  const last = page.at(-1);
  return {
    filter,
    query: q,
    groups,
    nextCursor: rows.length > limit && last ? `${last.created_at}_${last.id}` : null,
    counts,
    changesAfter,
  };
}

/** The latest change time (epoch ms) of the project's tasks and sessions; 0 for an empty project. */
export async function changeCursor(db: Db, projectId: string): Promise<number> {
  const [row] = await db.all<{ at: number | null }>(sql`
    SELECT max(
      coalesce((SELECT max(updated_at) FROM tasks WHERE project_id = ${projectId}), 0),
      coalesce((SELECT max(updated_at) FROM chat_sessions WHERE project_id = ${projectId}), 0)) AS at`);
  return row?.at ?? 0;
}

export async function filterCounts(db: Db, projectId: string): Promise<FilterCounts> {
  const [row] = await db.all<FilterCounts>(filterCountsQuery(projectId));
  return { active: row?.active ?? 0, blocked: row?.blocked ?? 0, failed: row?.failed ?? 0 };
}

/** `(?, ?, …)` for a non-empty list; an empty list matches nothing. */
export function inList(values: readonly string[]): SQL {
  if (values.length === 0) return sql`(NULL)`;
  return sql`(${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;
}

/** The groups of these root tasks, newest first, each with all its children. */
export async function loadGroups(db: Db, projectId: string, rootIds: string[]): Promise<SidebarGroup[]> {
  const [summaries, children] = await Promise.all([
    groupSummaries(db, projectId, rootIds),
    sidebarChildren(db, sql`t.parent_id IN ${inList(rootIds)}`),
  ]);
  return summaries.map((g) => ({ ...g, children: children.filter((c) => c.parentId === g.id) }));
}

interface RootRow {
  id: string;
  title: string;
  session_id: string | null;
  session_title: string | null;
  mode: TaskMode;
  status: TaskStatus;
  failure_reason: string | null;
  branch: string | null;
  created_at: number;
  updated_at: number;
}

/** The root, its children's states and its tree's flags, for each of these root tasks, newest first. */
async function groupSummaries(db: Db, projectId: string, rootIds: string[]): Promise<SidebarGroupSummary[]> {
  if (rootIds.length === 0) return [];
  const roots = inList(rootIds);
  const [rootRows, countRows, flagRows, usage] = await Promise.all([
    db.all<RootRow>(sql`
      SELECT t.id, t.title, s.id AS session_id, s.title AS session_title, t.mode, t.status,
        t.failure_reason, t.branch, t.created_at, t.updated_at
      FROM tasks t LEFT JOIN chat_sessions s ON s.task_id = t.id
      WHERE t.id IN ${roots}
      ORDER BY t.created_at DESC, t.id DESC`),
    // Direct children by status; a failed child that a retry replaced is counted apart.
    db.all<{ parent_id: string; status: TaskStatus; replaced: number; n: number }>(sql`
      SELECT t.parent_id, t.status,
        (t.status = 'failed' AND EXISTS (
          SELECT 1 FROM tasks r WHERE r.lineage_id = t.lineage_id AND r.retry_count > t.retry_count)) AS replaced,
        count(*) AS n
      FROM tasks t WHERE t.parent_id IN ${roots}
      GROUP BY t.parent_id, t.status, replaced`),
    // Only unfinished and failed tasks can raise a flag, and the status index finds just those.
    db.all<{ root_id: string; active: number; blocked: number; failed: number }>(sql`
      SELECT t.root_id, max(${IS_ACTIVE}) AS active, max(${IS_BLOCKED}) AS blocked, max(${IS_FAILED}) AS failed
      FROM tasks t
      WHERE t.project_id = ${projectId} AND t.root_id IN ${roots}
        AND t.status IN (${sql.raw([...ACTIVE_STATUSES, "failed"].map((s) => `'${s}'`).join(", "))})
      GROUP BY t.root_id`),
    treeUsage(db, roots),
  ]);
  return rootRows.map((root) => {
    const counts = countRows.filter((c) => c.parent_id === root.id);
    const childStatusCounts: Partial<Record<TaskStatus, number>> = {};
    for (const status of TASK_STATUSES) {
      const n = counts.filter((c) => c.status === status).reduce((sum, c) => sum + c.n, 0);
      if (n > 0) childStatusCounts[status] = n;
    }
    const childCount = counts.reduce((sum, c) => sum + c.n, 0);
    const activeChildren = counts.filter((c) => !isTerminal(c.status)).reduce((sum, c) => sum + c.n, 0);
    const leftOut = counts.filter((c) => c.status === "cancelled" || c.replaced).reduce((sum, c) => sum + c.n, 0);
    const flags = flagRows.find((f) => f.root_id === root.id);
    return {
      id: root.id,
      sessionId: root.session_id,
      title: root.session_title ?? root.title,
      mode: root.mode,
      status: root.status,
      failureReason: root.failure_reason,
      branch: root.branch,
      createdAt: root.created_at,
      updatedAt: root.updated_at,
      childCount,
      waitingOn: root.status === "awaiting_subtasks" ? activeChildren : 0,
      childStatusCounts,
      progress: { completed: childStatusCounts.completed ?? 0, total: childCount - leftOut },
      flags: { active: !!flags?.active, blocked: !!flags?.blocked, failed: !!flags?.failed },
      usage: usage.get(root.id) ?? null,
    };
  });
}

interface ChildRow {
  id: string;
  root_id: string;
  parent_id: string;
  title: string;
  status: TaskStatus;
  mode: TaskMode;
  failure_reason: string | null;
  created_at: number;
  updated_at: number;
}

/** Child rows (tasks `t` matching `where`) with what blocks them and how many tasks they dispatched. */
async function sidebarChildren(db: Db, where: SQL): Promise<SidebarChild[]> {
  const rows = await db.all<ChildRow>(sql`
    SELECT t.id, t.root_id, t.parent_id, t.title, t.status, t.mode, t.failure_reason, t.created_at, t.updated_at
    FROM tasks t WHERE ${where}
    ORDER BY t.created_at, t.id`);
  if (rows.length === 0) return [];
  const ids = inList(rows.map((r) => r.id));
  const [subCounts, blockers] = await Promise.all([
    db.all<{ parent_id: string; n: number; active: number }>(
      sql`SELECT parent_id, count(*) AS n, sum(status IN (${sql.raw(ACTIVE_STATUSES.map((s) => `'${s}'`).join(", "))})) AS active
        FROM tasks WHERE parent_id IN ${ids} GROUP BY parent_id`,
    ),
    // Dependencies gate execution: a queued task waits on every one not yet completed.
    db.all<{ task_id: string; title: string }>(sql`
      SELECT d.task_id, dt.title FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_task_id
      WHERE d.task_id IN ${ids} AND dt.status <> 'completed'
      ORDER BY dt.created_at, dt.id`),
  ]);
  return rows.map((r) => ({
    id: r.id,
    rootId: r.root_id,
    parentId: r.parent_id,
    title: r.title,
    status: r.status,
    mode: r.mode,
    failureReason: r.failure_reason,
    blockedByTitles: r.status === "queued" ? blockers.filter((b) => b.task_id === r.id).map((b) => b.title) : [],
    subCount: subCounts.find((s) => s.parent_id === r.id)?.n ?? 0,
    waitingOn: r.status === "awaiting_subtasks" ? Number(subCounts.find((s) => s.parent_id === r.id)?.active ?? 0) : 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}
