import { and, count, eq, gt, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { projects, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { ACTIVE_STATUSES, isTerminal } from "../tasks/statuses";

/**
 * Explains why a guarded child insert inserted nothing. The insert itself decided, atomically;
 * this reads the state afterwards only to name the limit in the error.
 */
export async function explainRefusedChild(
  db: Db,
  spec: { parentId: string; projectId: string; depth: number; dependsOn: string[] },
): Promise<SamError> {
  const project = await db.query.projects.findFirst({ where: eq(projects.id, spec.projectId) });
  const parent = await db.query.tasks.findFirst({ where: eq(tasks.id, spec.parentId), columns: { status: true } });
  if (!project || !parent) return new SamError("not_found", "The parent task or its project no longer exists");
  if (isTerminal(parent.status))
    return new SamError("conflict", `The parent task is ${parent.status}; it cannot dispatch`);
  if (spec.depth > project.maxDepth) {
    return new SamError(
      "limit_reached",
      `Depth limit reached: a subtask here would be at depth ${spec.depth}, and the project's max depth is ${project.maxDepth}`,
      { limit: "maxDepth", value: project.maxDepth },
    );
  }
  const [children] = await db
    .select({ n: count() })
    .from(tasks)
    .where(and(eq(tasks.parentId, spec.parentId), inArray(tasks.status, ACTIVE_STATUSES)));
  if ((children?.n ?? 0) >= project.maxChildren) {
    return new SamError(
      "limit_reached",
      `Children limit reached: this task already has ${children?.n} active subtasks, and the limit is ${project.maxChildren}`,
      { limit: "maxChildren", value: project.maxChildren },
    );
  }
  const [active] = await db
    .select({ n: count() })
    .from(tasks)
    .where(and(eq(tasks.projectId, spec.projectId), gt(tasks.depth, 0), inArray(tasks.status, ACTIVE_STATUSES)));
  if ((active?.n ?? 0) >= project.maxActiveDispatched) {
    return new SamError(
      "limit_reached",
      `Project limit reached: ${active?.n} dispatched tasks are active in this project, and the limit is ${project.maxActiveDispatched}`,
      { limit: "maxActiveDispatched", value: project.maxActiveDispatched },
    );
  }
  if (spec.dependsOn.length > 0) {
    const siblings = await db
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(inArray(tasks.id, spec.dependsOn), eq(tasks.parentId, spec.parentId)));
    const missing = spec.dependsOn.filter((id) => !siblings.some((s) => s.id === id));
    if (missing.length > 0) {
      return new SamError(
        "invalid_input",
        `dependsOn must name your own subtasks; these are not: ${missing.join(", ")}`,
        {
          fields: [{ field: "dependsOn", message: `not your subtasks: ${missing.join(", ")}` }],
        },
      );
    }
  }
  // The state changed between the insert and this look (another task ended): the caller may retry.
  return new SamError("conflict", "The subtask could not be created just now; try again");
}
