import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { getTaskForUser, type TaskRow } from "@/lib/tasks/show-task";

/**
 * A task of this project that the user may see; anything else, including a task of another
 * project under this project's URL, is a 404.
 */
export async function loadTaskOr404(userId: string, projectId: string, taskId: string): Promise<TaskRow> {
  try {
    const task = await getTaskForUser(getDb(), userId, taskId);
    if (task.projectId === projectId) return task;
  } catch (err) {
    if (!(SamError.is(err) && err.code === "not_found")) throw err;
  }
  notFound();
}
