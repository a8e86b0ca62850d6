import { and, eq, notInArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { taskDependencies, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { TERMINAL_STATUSES } from "../tasks/statuses";
import { transitionTask } from "../tasks/transition";
import { parseInput } from "../validation";
import { type Controller, requireControllable } from "./authorize";

export const removePendingInputSchema = z.object({ taskId: z.string().min(1).max(100) }).strict();

const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/** Removes (cancels) a queued child that has not started and that no live task waits on. */
export async function removePendingSubtask(db: Db, controller: Controller, input: unknown) {
  const { taskId } = parseInput(removePendingInputSchema, input);
  const task = await requireControllable(db, controller, taskId, "remove");
  const moved = await transitionTask(db, {
    taskId,
    from: ["queued"],
    to: "cancelled",
    actor:
      controller.kind === "task" ? { kind: "task", id: controller.taskId } : { kind: "user", id: controller.userId },
    reason: `removed by ${controller.kind === "task" ? "parent" : "user"}`,
    // Invariant: a task that others still wait on is never removed from under them.
    guard: sql`NOT EXISTS (
      SELECT 1 FROM task_dependencies d JOIN tasks t ON t.id = d.task_id
      WHERE d.depends_on_task_id = ${taskId} AND t.status NOT IN (${terminalList}))`,
  });
  if (moved) return { removed: true, taskId };

  const dependents = await db
    .select({ id: tasks.id, title: tasks.title })
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.taskId))
    .where(and(eq(taskDependencies.dependsOnTaskId, taskId), notInArray(tasks.status, [...TERMINAL_STATUSES])));
  if (dependents.length > 0) {
    throw new SamError(
      "conflict",
      `Cannot remove ${taskId}: ${dependents.map((d) => `"${d.title}" (${d.id})`).join(", ")} depend${dependents.length === 1 ? "s" : ""} on it`,
      { dependents: dependents.map((d) => d.id) },
    );
  }
  const now = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { status: true } });
  throw new SamError(
    "conflict",
    `Cannot remove ${taskId}: it is ${now?.status ?? task.status}, and only a queued task can be removed`,
  );
}
