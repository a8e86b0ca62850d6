import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { Db } from "@/db/client";
import { MERGE_STRATEGIES, type MergeStrategy } from "@/db/schema";
import { SamError } from "../errors";
import { checkMerge, commitsBetween } from "./diff";
import { type PullRequestRow, pullProject, recountWith } from "./figures";
import { deleteBranchOnGitHub, mergeOnGitHub } from "./github/pulls";
import { withPullRequestLock } from "./lock";
import { PrGitError, prGit, SAM_IDENTITY } from "./pr-git";
import {
  BranchMovedError,
  branchCommits,
  deleteBranch,
  type PullRepository,
  prepareAdvance,
  refresh,
  withPullRepository,
} from "./repository";
import { settlePullRequest } from "./states";

export const mergePullRequestSchema = z
  .object({
    strategy: z
      .enum(MERGE_STRATEGIES, { message: `strategy must be one of ${MERGE_STRATEGIES.join(", ")}` })
      .default("merge"),
  })
  .strict();
export type MergePullRequestInput = z.input<typeof mergePullRequestSchema>;

export interface MergeResult {
  state: "merged";
  mergeCommit: string;
}

// The base branch may move (another merge, a push) between reading it and writing it.
const ATTEMPTS = 3;
const IDENTITY = ["-c", `user.name=${SAM_IDENTITY.name}`, "-c", `user.email=${SAM_IDENTITY.email}`];

function conflictError(pr: PullRequestRow, conflicts: string[]): SamError {
  return new SamError(
    "conflict",
    `Pull request #${pr.number} cannot be merged: ${pr.headBranch} conflicts with ${pr.baseBranch} in ${conflicts.join(", ")}`,
    { reason: "merge_conflict", conflicts },
  );
}

/** Replays the head's commits (merges flattened) on the base in a scratch clone; returns the new tip. */
async function rebased(repo: PullRepository, pr: PullRequestRow, base: string, head: string): Promise<string> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sam-rebase-"));
  try {
    await prGit(["clone", "--quiet", "--shared", "--no-checkout", "--", repo.dir, scratch], { cwd: os.tmpdir() });
    await prGit(["checkout", "--quiet", "--detach", head], { cwd: scratch });
    const result = await prGit([...IDENTITY, "rebase", "--quiet", base], { cwd: scratch, okCodes: [1] });
    if (result.code !== 0) {
      const conflicts = (await prGit(["diff", "--name-only", "--diff-filter=U"], { cwd: scratch })).stdout
        .split("\n")
        .filter(Boolean);
      throw conflictError(pr, conflicts.length > 0 ? conflicts : ["(a commit does not apply)"]);
    }
    const tip = (await prGit(["rev-parse", "HEAD"], { cwd: scratch })).stdout.trim();
    // The new commits go back into the repository SAM merges in.
    await prGit(["update-ref", "refs/heads/sam-rebased", tip], { cwd: scratch });
    await prGit(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", scratch, "refs/heads/sam-rebased"], {
      cwd: repo.dir,
    });
    return tip;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The commit the base branch moves to, made by `strategy` from the base and head commits. */
async function mergedCommit(
  repo: PullRepository,
  pr: PullRequestRow,
  strategy: MergeStrategy,
  base: string,
  head: string,
  tree: string,
): Promise<string> {
  if (strategy === "rebase") return rebased(repo, pr, base, head);
  const commitTree = (parents: string[], message: string) =>
    prGit([...IDENTITY, "commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-m", message], {
      cwd: repo.dir,
    }).then((r) => r.stdout.trim());
  if (strategy === "merge") {
    return commitTree([base, head], `Merge pull request #${pr.number} from ${pr.headBranch}\n\n${pr.title}`);
  }
  const commits = await commitsBetween(repo, base, head);
  const list = commits.map((c) => `* ${c.message.split("\n")[0]}`).join("\n");
  return commitTree([base], `${pr.title} (#${pr.number})${list ? `\n\n${list}` : ""}`);
}

/**
 * Merges an open pull request into its base branch with the chosen strategy, checked first for
 * conflicts (refused naming the paths). The base branch moves like a push without force: if it
 * moved meanwhile SAM reads it again and retries. A checked-out base branch with uncommitted
 * changes is refused and left as it is. The branch is deleted afterwards if the project says so.
 */
export async function mergePullRequest(
  db: Db,
  pr: PullRequestRow,
  input: { userId: string | null; strategy: MergeStrategy },
): Promise<MergeResult> {
  const project = await pullProject(db, pr);
  return withPullRequestLock(db, pr, "merged", (lockToken) =>
    withPullRepository(project, async (repo) => {
      // A pull request on GitHub is merged there (see github/pulls.ts).
      const mergeCommit = pr.githubNumber
        ? await mergeOnGitHub(db, repo, pr, input.strategy)
        : await mergeInto(db, repo, pr, input.strategy);
      // The merge is done: the PR is settled and its branch deleted at once.
      await Promise.all([
        settlePullRequest(db, {
          pullRequestId: pr.id,
          to: "merged",
          lockToken,
          userId: input.userId,
          mergeCommit,
          strategy: input.strategy,
        }),
        project.deleteBranches ? deleteHeadBranchIn(db, repo, pr) : undefined,
      ]);
      return { state: "merged" as const, mergeCommit };
    }),
  );
}

/** Moves the base branch of the project's repository to the merge of the PR's head; returns the new base commit. */
async function mergeInto(db: Db, repo: PullRepository, pr: PullRequestRow, strategy: MergeStrategy): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    // Where the base is checked out is read alongside, for moving it below.
    const [commits] = await Promise.all([branchCommits(repo, [pr.baseBranch, pr.headBranch]), repo.workTrees()]);
    const base = commits.get(pr.baseBranch);
    const head = commits.get(pr.headBranch);
    if (!base) throw new SamError("conflict", `The base branch ${pr.baseBranch} no longer exists`);
    if (!head)
      throw new SamError("conflict", `The branch ${pr.headBranch} of pull request #${pr.number} no longer exists`);
    // Counted at the head being merged (unless it already was), so the merged PR's diff stays
    // readable afterwards; the base's work tree is checked while git looks for conflicts.
    const [, alreadyIn, check, prepared] = await Promise.all([
      pr.headCommit === head && pr.comparisonCommit ? undefined : recountWith(db, repo, pr),
      prGit(["merge-base", "--is-ancestor", head, base], { cwd: repo.dir, okCodes: [1] }),
      checkMerge(repo, base, head),
      prepareAdvance(repo, pr.baseBranch, base).then(
        (move) => ({ move }),
        (error: unknown) => ({ error }),
      ),
    ]);
    if (alreadyIn.code === 0) return base;
    try {
      // A conflict is the first thing said, before a dirty work tree.
      if (!check.mergeable || !check.tree) throw conflictError(pr, check.conflicts);
      if ("error" in prepared) throw prepared.error;
      const next = await mergedCommit(repo, pr, strategy, base, head, check.tree);
      await prepared.move(next);
      return next;
    } catch (err) {
      if (!(err instanceof BranchMovedError) || attempt >= ATTEMPTS) {
        if (err instanceof BranchMovedError) {
          throw new SamError("conflict", `${pr.baseBranch} kept moving during the merge; try again`);
        }
        if (err instanceof PrGitError)
          throw new SamError("unavailable", `The merge could not be written: ${err.summary}`);
        throw err;
      }
      await refresh(repo);
    }
  }
}

/**
 * Deletes a merged or closed PR's branch (through GitHub's API for a PR on GitHub); a failure leaves
 * the branch and is only logged.
 */
export async function deleteHeadBranch(db: Db, project: Parameters<typeof withPullRepository>[0], pr: PullRequestRow) {
  if (pr.githubNumber) return deleteBranchOnGitHub(db, pr);
  await withPullRepository(project, (repo) => deleteBranchIn(repo, pr)).catch((err: unknown) => logKept(pr, err));
}

/** The same, in a repository already in use (a merge deletes the branch before letting go of it). */
async function deleteHeadBranchIn(db: Db, repo: PullRepository, pr: PullRequestRow) {
  if (pr.githubNumber) return deleteBranchOnGitHub(db, pr);
  await deleteBranchIn(repo, pr).catch((err: unknown) => logKept(pr, err));
}

const deleteBranchIn = (repo: PullRepository, pr: PullRequestRow) => deleteBranch(repo, pr.headBranch);

function logKept(pr: PullRequestRow, err: unknown) {
  console.error(`sam: could not delete ${pr.headBranch} after PR #${pr.number}: ${(err as Error).message}`);
}
