import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { projectMembers, pullRequests } from "@/db/schema";
import { SamError } from "../errors";
import type { Requester } from "../users";
import type { PullRequestRow } from "./figures";

/**
 * A pull request the requester may see: members of its project (and the operator on the command
 * line). To anyone else it does not exist.
 */
export async function getPullRequestFor(db: Db, requester: Requester, id: string): Promise<PullRequestRow> {
  const pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.id, id) });
  if (!pr) throw new SamError("not_found", "Pull request not found");
  if (requester !== "operator") {
    const member = await db.query.projectMembers.findFirst({
      where: (m, { and }) => and(eq(m.projectId, pr.projectId), eq(projectMembers.userId, requester.userId)),
      columns: { role: true },
    });
    if (!member) throw new SamError("not_found", "Pull request not found");
  }
  return pr;
}

/** A project's pull request by its number, for a member; anyone else gets "not found". */
export async function getPullRequestByNumber(
  db: Db,
  requester: Requester,
  projectId: string,
  number: number,
): Promise<PullRequestRow> {
  const pr = await db.query.pullRequests.findFirst({
    where: (p, { and }) => and(eq(p.projectId, projectId), eq(p.number, number)),
    columns: { id: true },
  });
  if (!pr) throw new SamError("not_found", `Pull request #${number} not found`);
  return getPullRequestFor(db, requester, pr.id);
}
