import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { PullRequestState, TaskMode, TaskStatus } from "@/db/schema";
import { SamError } from "../errors";
import { IS_BLOCKED } from "../sidebar/filter-sql";
import { changeCursor } from "../sidebar/load-sidebar";
import { getTaskForUser } from "../tasks/show-task";
import { TERMINAL_STATUSES } from "../tasks/statuses";
import type { GraphDependency, GraphTask, TaskGraph } from "./types";

const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/** The ids of a root's tree, walked down parent_id (its index) rather than a scan of the project. */
const treeOf = (rootId: string) => sql`
  WITH RECURSIVE tree(id) AS (
    SELECT id FROM tasks WHERE id = ${rootId}
    UNION ALL
    SELECT c.id FROM tasks c JOIN tree ON c.parent_id = tree.id
  )`;

interface TaskRow {
  id: string;
  title: string;
  status: TaskStatus;
  mode: TaskMode;
  depth: number;
  parent_id: string | null;
  harness: string;
  model: string;
  pr_number: number | null;
  pr_state: PullRequestState | null;
  pr_url: string | null;
  blocked: number;
  active_children: number;
}

/**
 * The whole tree of the root of `taskId` (any task of the tree leads to the same graph), for a
 * member of `projectId`; a task of another project, or one the user may not see, does not exist.
 */
export async function loadTaskGraph(db: Db, userId: string, projectId: string, taskId: string): Promise<TaskGraph> {
  const focus = await getTaskForUser(db, userId, taskId);
  if (focus.projectId !== projectId) throw new SamError("not_found", "Task not found");
  // Read before the tree: a stream started from it sees every change the tree may have missed.
  const changesAfter = await changeCursor(db, projectId);
  const [taskRows, edgeRows] = await Promise.all([
    db.all<TaskRow>(sql`${treeOf(focus.rootId)}
      SELECT t.id, t.title, t.status, t.mode, t.depth, t.parent_id,
        coalesce(t.harness, p.harness) AS harness, coalesce(t.model, p.model) AS model,
        pr.number AS pr_number, pr.state AS pr_state, pr.url AS pr_url,
        (${IS_BLOCKED}) AS blocked,
        (SELECT count(*) FROM tasks c WHERE c.parent_id = t.id AND c.status NOT IN (${terminalList})) AS active_children
      FROM tree JOIN tasks t ON t.id = tree.id
        JOIN projects p ON p.id = t.project_id
        LEFT JOIN pull_requests pr ON pr.task_id = t.id
      ORDER BY t.depth, t.created_at, t.id`),
    // Dependencies join siblings, so both ends are in the tree.
    db.all<{ task_id: string; depends_on_task_id: string; blocking: number }>(sql`${treeOf(focus.rootId)}
      SELECT d.task_id, d.depends_on_task_id, dt.status <> 'completed' AS blocking
      FROM tree JOIN task_dependencies d ON d.task_id = tree.id
        JOIN tasks dt ON dt.id = d.depends_on_task_id
      ORDER BY d.created_at, d.task_id, d.depends_on_task_id`),
  ]);
  const tasks: GraphTask[] = taskRows.map((r) => ({
    id: r.id,
    title: r.title,
    status: r.status,
    mode: r.mode,
    depth: r.depth,
    parentId: r.parent_id,
    harness: r.harness,
    model: r.model,
    pr: r.pr_number !== null && r.pr_state !== null ? { number: r.pr_number, state: r.pr_state, url: r.pr_url } : null,
    blocked: !!r.blocked,
    activeChildren: r.active_children,
  }));
  const dependencies: GraphDependency[] = edgeRows.map((e) => ({
    taskId: e.task_id,
    dependsOnTaskId: e.depends_on_task_id,
    blocking: !!e.blocking,
  }));
  return { projectId, rootId: focus.rootId, focusId: focus.id, tasks, dependencies, changesAfter };
}
