import type { Db } from "@/db/client";
import type { PullRequestRow } from "../pulls/figures";
import { notify } from "./notify";
import { clip } from "./task-notifications";

/**
 * Tells a project's members that a pull request was opened or merged (in SAM or on GitHub), once
 * each. A failure here is logged, never thrown: the pull request is already what it is.
 */
export async function notifyPullRequest(db: Db, pr: PullRequestRow, what: "opened" | "merged") {
  try {
    await notify(db, {
      kind: what === "opened" ? "pr_opened" : "pr_merged",
      projectId: pr.projectId,
      taskId: pr.taskId,
      title: `Pull request #${pr.number} ${what}: ${clip(pr.title, 120)}`,
      body: what === "opened" ? `${pr.headBranch} into ${pr.baseBranch}` : `Merged into ${pr.baseBranch}`,
      dedupKey: `pr_${what}:${pr.id}`,
    });
  } catch (err) {
    console.error(`sam: could not notify that pull request #${pr.number} was ${what}: ${(err as Error).message}`);
  }
}
