import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { getProjectForUser, type ProjectWithRole } from "../projects/projects";

/**
 * The project whose ideas a user works on: a member's (anyone else gets "not found"), and for a
 * change one that is not archived (an archived project is read-only until an owner restores it).
 */
export async function ideasProjectForUser(
  db: Db,
  userId: string,
  projectId: string,
  opts: { write: boolean },
): Promise<ProjectWithRole> {
  const project = await getProjectForUser(db, userId, projectId);
  if (opts.write && project.archivedAt) {
    throw new SamError("conflict", "This project is archived; an owner can restore it in its settings to change ideas");
  }
  return project;
}
