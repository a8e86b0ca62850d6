import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { getTaskForUser } from "../tasks/show-task";
import type { Controller, TaskRow } from "./authorize";

export type UserController = Extract<Controller, { kind: "user" }>;

/**
 * The user acting on a task, as the project's owner would: membership is checked first, so to a
 * non-member — or under another project's URL — the task does not exist (`not_found`, a 404).
 */
export async function userControllerFor(
  db: Db,
  userId: string,
  taskId: string,
  projectId?: string,
): Promise<{ controller: UserController; task: TaskRow }> {
  const task = await getTaskForUser(db, userId, taskId);
  if (projectId !== undefined && task.projectId !== projectId) throw new SamError("not_found", "Task not found");
  return { controller: { kind: "user", userId, projectId: task.projectId }, task };
}
