"use server";

import { redirect } from "next/navigation";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { createProject } from "@/lib/projects/projects";

export async function createProjectAction(_prev: ActionState, formData: FormData): Promise<ActionState> {
  let id: string;
  try {
    const user = await requireApiUser();
    const project = await createProject(getDb(), user.id, {
      repo: formData.get("repo") ?? "",
      name: formData.get("name") ?? undefined,
    });
    id = project.id;
  } catch (err) {
    return actionError(err, formData);
  }
  redirect(`/projects/${id}`);
}
