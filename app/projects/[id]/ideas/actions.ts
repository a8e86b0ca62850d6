"use server";

import { revalidatePath } from "next/cache";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { ideasProjectForUser } from "@/lib/ideas/access";
import { executeIdea } from "@/lib/ideas/execute";
import { createIdea, moveIdea, updateIdea } from "@/lib/ideas/ideas";

/** Form fields that were sent, by name; an absent field is left out so it stays unchanged. */
function fieldsOf(formData: FormData, names: readonly string[]): Record<string, FormDataEntryValue> {
  const out: Record<string, FormDataEntryValue> = {};
  for (const name of names) {
    const value = formData.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

async function run(
  projectId: string,
  fn: (userId: string) => Promise<ActionState>,
  formData?: FormData,
): Promise<ActionState> {
  try {
    const user = await requireApiUser();
    await ideasProjectForUser(getDb(), user.id, projectId, { write: true });
    const state = await fn(user.id);
    revalidatePath(`/projects/${projectId}/ideas`, "layout");
    return state;
  } catch (err) {
    return actionError(err, formData);
  }
}

/** A new idea from the board's inline form (title, content, priority), at the top of Draft. */
export async function createIdeaAction(projectId: string, _prev: ActionState, formData: FormData) {
  return run(
    projectId,
    async (userId) => {
      const idea = await createIdea(
        getDb(),
        projectId,
        { kind: "user", userId },
        fieldsOf(formData, ["title", "content", "priority"]),
      );
      return { ok: true, message: `Idea “${idea.title}” added to Draft.` };
    },
    formData,
  );
}

/** Edits an idea: any of title, content, priority, status (draft, exploring, ready, parked). */
export async function updateIdeaAction(projectId: string, ideaId: string, _prev: ActionState, formData: FormData) {
  return run(
    projectId,
    async () => {
      await updateIdea(getDb(), projectId, ideaId, fieldsOf(formData, ["title", "content", "priority", "status"]));
      return { ok: true, message: "Saved." };
    },
    formData,
  );
}

/** A card dropped on the board: {ideaId, status, afterId}. */
export async function moveIdeaAction(projectId: string, input: unknown): Promise<ActionState> {
  return run(projectId, async () => {
    await moveIdea(getDb(), projectId, input);
    return { ok: true };
  });
}

/** Execute: a task-mode task from the idea; refused while the idea is executing. */
export async function executeIdeaAction(projectId: string, ideaId: string, _prev: ActionState, _formData: FormData) {
  return run(projectId, async (userId) => {
    const task = await executeIdea(getDb(), userId, projectId, ideaId);
    return { ok: true, message: `Task “${task.title}” queued.` };
  });
}
