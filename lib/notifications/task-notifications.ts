import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type TaskStatus, tasks } from "@/db/schema";
import { PARENT_ENDED } from "../tasks/transition";
import { notify } from "./notify";

// A notification is read on a phone: a line or two, not the whole report.
const MAX_BODY_CHARS = 500;

export function clip(text: string, max = MAX_BODY_CHARS): string {
  const flat = text.trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Tells the project's members that a task ended (called by transitionTask after each move it made):
 * a root task's completion (a subtask's end goes to its parent agent instead) and any task's failure,
 * except one that failed because its parent ended (the parent's own end says it). A failure here is
 * logged, never thrown: the move has happened.
 */
export async function notifyTaskEnded(db: Db, taskId: string, to: TaskStatus): Promise<void> {
  if (to !== "completed" && to !== "failed") return;
  try {
    const task = await db.query.tasks.findFirst({
      where: eq(tasks.id, taskId),
      columns: {
        projectId: true,
        parentId: true,
        title: true,
        summary: true,
        failureReason: true,
        stopReason: true,
        branch: true,
      },
    });
    if (!task) return;
    if (to === "completed") {
      if (task.parentId) return;
      const outcome = task.summary ? clip(task.summary) : task.branch ? "" : "It changed nothing.";
      await notify(db, {
        kind: "task_completed",
        projectId: task.projectId,
        taskId,
        title: `Task completed: ${clip(task.title, 120)}`,
        body: outcome,
        dedupKey: `task_completed:${taskId}`,
      });
      return;
    }
    if (task.stopReason === PARENT_ENDED || task.failureReason === PARENT_ENDED) return;
    await notify(db, {
      kind: "task_failed",
      projectId: task.projectId,
      taskId,
      title: `Task failed: ${clip(task.title, 120)}`,
      body: task.failureReason ? clip(task.failureReason) : "",
      dedupKey: `task_failed:${taskId}`,
    });
  } catch (err) {
    console.error(`sam: could not notify the end of task ${taskId}: ${(err as Error).message}`);
  }
}
