"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { removePendingSubtask } from "@/lib/orchestrator/remove";
import { retrySubtask } from "@/lib/orchestrator/retry";
import { sendMessageToSubtask } from "@/lib/orchestrator/send-message";
import { endConversation, stopSubtask } from "@/lib/orchestrator/stop";
import { userControllerFor } from "@/lib/orchestrator/user-controller";
import { createTaskInActiveProject } from "@/lib/tasks/create-task-in-active-project";
import { parseInput } from "@/lib/validation";

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

/** An optional text field: blank means absent. */
const optionalText = (max: number, name: string) =>
  z
    .string()
    .trim()
    .max(max, { message: `The ${name} is longer than ${max.toLocaleString("en")} characters` })
    .optional()
    .transform((v) => (v === "" ? undefined : v));

/** The value of a form field, or undefined when the form has no such field. */
function field(formData: FormData, name: string): unknown {
  return formData.get(name) ?? undefined;
}

/**
 * Every control acts as the project's user through the orchestrator, with the rules the MCP tools
 * follow; membership is checked first, so a non-member is told the task does not exist.
 */
async function controllerFor(projectId: string, taskId: string) {
  const user = await requireApiUser();
  const db = getDb();
  return { db, ...(await userControllerFor(db, user.id, taskId, projectId)) };
}

const stopFormSchema = z.object({ reason: optionalText(1000, "reason") });

/** Stops a task with the project's grace period; the reason is optional. */
export async function stopTaskAction(
  projectId: string,
  taskId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  try {
    const { reason } = parseInput(stopFormSchema, { reason: field(formData, "reason") });
    const { db, controller } = await controllerFor(projectId, taskId);
    const stop = await stopSubtask(db, controller, { taskId, reason });
    return {
      ok: true,
      message: stop.alreadyStopping
        ? `A stop is already under way (${stop.reason}).`
        : `Stopping: the agent has ${stop.graceSeconds} s to save its work.`,
    };
  } catch (err) {
    return actionError(err, formData);
  }
}

/** Ends a conversation: a stop whose reason says the user ended it. */
export async function endConversationAction(
  projectId: string,
  taskId: string,
  _prev: ActionState,
  _formData: FormData,
): Promise<ActionState> {
  try {
    const { db, controller } = await controllerFor(projectId, taskId);
    await endConversation(db, controller, { taskId });
    return { ok: true, message: "Ending the conversation." };
  } catch (err) {
    return actionError(err);
  }
}

const retryFormSchema = z.object({ extraContext: optionalText(16_000, "note") });

/** Replaces a failed task with a new attempt that is told what went wrong, then shows the new one. */
export async function retryTaskAction(
  projectId: string,
  taskId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  let retryId: string;
  try {
    const { extraContext } = parseInput(retryFormSchema, { extraContext: field(formData, "extraContext") });
    const { db, controller } = await controllerFor(projectId, taskId);
    retryId = (await retrySubtask(db, controller, { taskId, extraContext })).taskId;
  } catch (err) {
    // A refused retry keeps the note: the user fixes what was wrong and sends it again.
    return actionError(err, formData);
  }
  redirect(`/projects/${projectId}/tasks/${retryId}`);
}

/** Removes a queued task that has not started. */
export async function removeTaskAction(
  projectId: string,
  taskId: string,
  _prev: ActionState,
  _formData: FormData,
): Promise<ActionState> {
  try {
    const { db, controller } = await controllerFor(projectId, taskId);
    await removePendingSubtask(db, controller, { taskId });
    return { ok: true, message: "Removed: the task will not run." };
  } catch (err) {
    return actionError(err);
  }
}

const messageFormSchema = z.object({
  message: z
    .string({ message: "The message is empty" })
    .trim()
    .min(1, { message: "The message is empty" })
    .max(32_768, { message: "The message is longer than 32,768 characters" }),
});

/**
 * A message to a task's agent. It waits in the task's inbox when the agent cannot take it now (not
 * started yet, or its node did not answer) and is delivered once, as soon as it can be.
 */
export async function sendTaskMessageAction(
  projectId: string,
  taskId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  try {
    const { message } = parseInput(messageFormSchema, { message: field(formData, "message") });
    const { db, controller, task } = await controllerFor(projectId, taskId);
    const sent = await sendMessageToSubtask(db, controller, { taskId, message });
    if (sent.delivered) return { ok: true, message: "Sent." };
    // Stored and waiting: not an error, but not done either.
    return {
      ok: false,
      message:
        task.status === "queued" || task.status === "provisioning"
          ? "The agent has not started yet; the message waits and is delivered once it runs."
          : "The agent's node did not answer; the message waits and is delivered once the node is reachable again.",
    };
  } catch (err) {
    return actionError(err);
  }
}
