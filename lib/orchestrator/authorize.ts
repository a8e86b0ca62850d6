import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tasks } from "@/db/schema";
import { SamError } from "../errors";

export type TaskRow = typeof tasks.$inferSelect;

/** Who acts on a child: an agent (by its task) or the project's user acting as owner. */
export type Controller =
  | { kind: "task"; taskId: string; projectId: string }
  | { kind: "user"; userId: string; projectId: string };

/**
 * The child a controller may act on. Only the direct parent may message, stop, retry, remove or
 * order a child: a sibling, the grandparent, a grandchild or another project's task is refused,
 * and the message says why. A user (the project's owner, checked by the caller) may act on any
 * task of the project.
 */
export async function requireControllable(
  db: Db,
  controller: Controller,
  taskId: string,
  action: string,
): Promise<TaskRow> {
  const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
  if (!task || task.projectId !== controller.projectId) {
    throw new SamError("forbidden", `Cannot ${action} task ${taskId}: it is not a task of your project`);
  }
  if (controller.kind === "task" && task.parentId !== controller.taskId) {
    throw new SamError(
      "forbidden",
      task.id === controller.taskId
        ? `Cannot ${action} your own task`
        : `Cannot ${action} task ${taskId}: only its direct parent may do that`,
    );
  }
  return task;
}
