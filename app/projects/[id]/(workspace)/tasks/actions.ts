"use server";

import { redirect } from "next/navigation";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { createTaskInActiveProject } from "@/lib/tasks/create-task-in-active-project";

/** Queues a task from the project page, then shows it. */
export async function createTaskAction(
  projectId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  let taskId: string;
  try {
    const user = await requireApiUser();
    const title = formData.get("title");
    const task = await createTaskInActiveProject(getDb(), user.id, {
      projectId,
      prompt: formData.get("prompt") ?? "",
      mode: formData.get("mode") ?? undefined,
      // An empty title field means "derive it from the prompt".
      title: typeof title === "string" && title.trim() !== "" ? title : undefined,
    });
    taskId = task.id;
  } catch (err) {
    return actionError(err);
  }
  redirect(`/projects/${projectId}/tasks/${taskId}`);
}
