import { eq, inArray, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { taskDependencies, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { parseInput } from "../validation";

export const taskGraphInputSchema = z.object({ taskId: z.string().min(1).max(100).optional() }).strict();

const nodeColumns = {
  id: tasks.id,
  title: tasks.title,
  status: tasks.status,
  mode: tasks.mode,
  parentId: tasks.parentId,
  branch: tasks.branch,
  prUrl: tasks.prUrl,
  failureReason: tasks.failureReason,
  retryOfId: tasks.retryOfId,
};

/**
 * The graph around a task: the task, its parent, children and siblings with status, branch and
 * PR, the dependency edges among them, and what each blocked task waits on. The caller may look at
 * itself or at one of its children.
 */
export async function taskGraph(db: Db, caller: { taskId: string; projectId: string }, input: unknown) {
  const { taskId = caller.taskId } = parseInput(taskGraphInputSchema, input);
  const [task] = await db.select(nodeColumns).from(tasks).where(eq(tasks.id, taskId));
  if (!task || (task.id !== caller.taskId && task.parentId !== caller.taskId)) {
    throw new SamError("forbidden", `Cannot read the graph of task ${taskId}: only your own task or your subtasks`);
  }
  const [parent] = task.parentId ? await db.select(nodeColumns).from(tasks).where(eq(tasks.id, task.parentId)) : [];
  const [children, siblings] = await Promise.all([
    db.select(nodeColumns).from(tasks).where(eq(tasks.parentId, task.id)),
    task.parentId ? db.select(nodeColumns).from(tasks).where(eq(tasks.parentId, task.parentId)) : Promise.resolve([]),
  ]);
  const nodes = new Map([task, ...(parent ? [parent] : []), ...children, ...siblings].map((n) => [n.id, n]));
  // The same set of tasks as a subquery, not a list of ids: a list is two bound parameters per task,
  // and a neighbourhood of more than ~16,000 tasks would exceed SQLite's limit of 32,766.
  const around = task.parentId ? [task.id, task.parentId] : [task.id];
  const nodeIds = sql`(SELECT id FROM tasks WHERE id IN (${sql.join(
    around.map((id) => sql`${id}`),
    sql`, `,
  )}) OR parent_id IN (${sql.join(
    around.map((id) => sql`${id}`),
    sql`, `,
  )}))`;
  const touching = or(inArray(taskDependencies.taskId, nodeIds), inArray(taskDependencies.dependsOnTaskId, nodeIds));
  const edges = await db
    .select({ taskId: taskDependencies.taskId, dependsOnTaskId: taskDependencies.dependsOnTaskId })
    .from(taskDependencies)
    .where(touching);
  const blockers = await db
    .select(nodeColumns)
    .from(tasks)
    .where(
      inArray(tasks.id, db.select({ id: taskDependencies.dependsOnTaskId }).from(taskDependencies).where(touching)),
    );
  const byId = new Map(blockers.map((b) => [b.id, b]));
  // Each task's edges, grouped once (filtering all edges per task was quadratic in the graph's size).
  const edgesOf = new Map<string, string[]>();
  for (const e of edges) edgesOf.set(e.taskId, [...(edgesOf.get(e.taskId) ?? []), e.dependsOnTaskId]);
  const blocked = [...nodes.values()]
    .filter((n) => n.status === "queued")
    .map((n) => ({
      taskId: n.id,
      waitingOn: (edgesOf.get(n.id) ?? [])
        .map((dependsOnTaskId) => byId.get(dependsOnTaskId))
        .filter((b) => b !== undefined && b.status !== "completed")
        .map((b) => ({ id: b!.id, title: b!.title, status: b!.status })),
    }))
    .filter((b) => b.waitingOn.length > 0);
  return {
    task,
    parent: parent ?? null,
    children,
    siblings: siblings.filter((s) => s.id !== task.id),
    edges,
    blocked,
  };
}
