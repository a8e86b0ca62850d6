import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { taskDependencies } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { parseInput } from "../validation";
import { type Controller, requireControllable } from "./authorize";

export const addDependencyInputSchema = z
  .object({
    taskId: z.string().min(1).max(100),
    dependsOnTaskId: z.string().min(1).max(100),
  })
  .strict();

/**
 * Whether `from` can already reach `to` by following dependency edges. `UNION` (not `UNION ALL`)
 * visits each task once, so the walk ends on any graph, however large.
 */
function reaches(from: string, to: string) {
  return sql`EXISTS (
    WITH RECURSIVE reach(id) AS (
      SELECT ${from}
      UNION
      SELECT d.depends_on_task_id FROM task_dependencies d JOIN reach r ON d.task_id = r.id
    )
    SELECT 1 FROM reach WHERE id = ${to})`;
}

/**
 * Task `taskId` waits for `dependsOnTaskId`. Both must be the caller's children; the dependent must
 * still be queued. An existing edge is a no-op; a self-edge or a cycle is refused.
 */
export async function addDependency(db: Db, controller: Controller, input: unknown) {
  const { taskId, dependsOnTaskId } = parseInput(addDependencyInputSchema, input);
  if (taskId === dependsOnTaskId) {
    throw new SamError("invalid_input", "A task cannot depend on itself", {
      fields: [{ field: "dependsOnTaskId", message: "is the same task" }],
    });
  }
  await requireControllable(db, controller, taskId, "order");
  await requireControllable(db, controller, dependsOnTaskId, "order");

  // Invariant: the dependency graph stays acyclic and only queued tasks gain dependencies. The
  // cycle check and the insert are one statement, so two opposite edges added at once cannot both
  // pass (SQLite runs one writer at a time).
  const inserted = await db.run(sql`
    INSERT INTO task_dependencies (task_id, depends_on_task_id)
    SELECT ${taskId}, ${dependsOnTaskId}
    WHERE (SELECT status FROM tasks WHERE id = ${taskId}) = 'queued'
      AND NOT ${reaches(dependsOnTaskId, taskId)}
    ON CONFLICT (task_id, depends_on_task_id) DO NOTHING`);
  if (inserted.rowsAffected === 1) {
    emitTaskChanged({ taskId });
    return { added: true, taskId, dependsOnTaskId };
  }
  const existing = await db.query.taskDependencies.findFirst({
    where: and(eq(taskDependencies.taskId, taskId), eq(taskDependencies.dependsOnTaskId, dependsOnTaskId)),
  });
  if (existing) return { added: false, alreadyExisted: true, taskId, dependsOnTaskId };
  const now = await requireControllable(db, controller, taskId, "order");
  if (now.status !== "queued") {
    throw new SamError("conflict", `Task ${taskId} is ${now.status}; only a queued task can gain a dependency`);
  }
  throw new SamError(
    "conflict",
    `Refused: ${dependsOnTaskId} already depends (directly or through others) on ${taskId}, so this edge would make a cycle`,
  );
}
