import type { Db } from "@/db/client";
import type { PullRequestRow } from "./figures";
import { pullProject, recountWith } from "./figures";
import { closeOnGitHub } from "./github/pulls";
import { withPullRequestLock } from "./lock";
import { deleteHeadBranch } from "./merge";
import { withPullRepository } from "./repository";
import { settlePullRequest } from "./states";

/**
 * Closes an open pull request without merging it; its idea goes back to ready. Its figures are
 * counted first so its diff stays readable, then its branch is deleted if the project says so.
 */
export async function closePullRequest(
  db: Db,
  pr: PullRequestRow,
  input: { userId: string | null },
): Promise<{ state: "closed" }> {
  const project = await pullProject(db, pr);
  return withPullRequestLock(db, pr, "closed", async (lockToken) => {
    await withPullRepository(project, (repo) => recountWith(db, repo, pr)).catch(() => undefined);
    if (pr.githubNumber) await closeOnGitHub(db, pr);
    await settlePullRequest(db, { pullRequestId: pr.id, to: "closed", lockToken, userId: input.userId });
    if (project.deleteBranches) await deleteHeadBranch(db, project, pr);
    return { state: "closed" as const };
  });
}
