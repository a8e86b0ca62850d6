import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { getProjectForUser, type ProjectWithRole } from "@/lib/projects/projects";

/** A project the user is a member of; anything else is a 404, so non-members learn nothing. */
export async function loadProjectOr404(userId: string, projectId: string): Promise<ProjectWithRole> {
  try {
    return await getProjectForUser(getDb(), userId, projectId);
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") notFound();
    throw err;
  }
}
