import { notFound } from "next/navigation";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { toJson } from "@/components/tasks/task-json";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { withSenders } from "@/lib/tasks/sent-messages";
import { agentEventsOf, getTaskForUser, type TaskRow, taskDetails } from "@/lib/tasks/show-task";

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

/**
 * What a task's view needs, for its page and for the chat's task panel alike: the project, and the
 * props of its live view (`liveView`).
 */
export async function loadTaskView(userId: string, projectId: string, taskId: string) {
  const [project, task] = await Promise.all([
    loadProjectOr404(userId, projectId),
    loadTaskOr404(userId, projectId, taskId),
  ]);
  const db = getDb();
  const details = await taskDetails(db, task);
  // The first page of events comes with the page; the stream picks up after the last of them.
  const events = details.sessionId
    ? await withSenders(db, task, await agentEventsOf(db, details.sessionId), userId)
    : [];
  const liveView = {
    projectId: project.id,
    initialTask: toJson(details),
    initialEvents: toJson(events),
    graceSeconds: project.stopGraceSeconds,
  };
  return { project, task, liveView };
}
