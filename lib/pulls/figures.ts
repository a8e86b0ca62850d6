import { and, asc, eq, isNotNull } from "drizzle-orm";
import type { Db } from "@/db/client";
import { projects, pullRequests, taskDependencies, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { emitPullChanged } from "../events/bus";
import { type ChangedFile, changedFiles, comparisonBase } from "./diff";
import { branchCommit, type PullRepository, withPullRepository } from "./repository";

export type PullRequestRow = typeof pullRequests.$inferSelect;

/** The commits a pull request is read at now: its head, its base, and what the head is compared with. */
export interface PullPoints {
  head: string;
  base: string;
  comparison: string;
}

/** The project of a pull request, as the git side needs it. */
export async function pullProject(db: Db, pr: PullRequestRow) {
  const project = await db.query.projects.findFirst({ where: eq(projects.id, pr.projectId) });
  if (!project) throw new SamError("not_found", "Pull request not found");
  return project;
}

/**
 * Where a pull request stands in the repository. An open one is read from its branches; a merged or
 * closed one (whose branch may be gone) from the commits recorded when it was last counted.
 */
export async function pullPoints(db: Db, repo: PullRepository, pr: PullRequestRow): Promise<PullPoints | undefined> {
  const base = await branchCommit(repo, pr.baseBranch);
  const head = pr.state === "open" ? await branchCommit(repo, pr.headBranch) : (pr.headCommit ?? undefined);
  if (!head || !base) return undefined;
  if (pr.state !== "open" && pr.comparisonCommit) return { head, base, comparison: pr.comparisonCommit };
  const deps = await db
    .select({ branch: tasks.branch })
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnTaskId))
    .where(and(eq(taskDependencies.taskId, pr.taskId), isNotNull(tasks.branch)))
    .orderBy(asc(taskDependencies.createdAt));
  const depCommits: string[] = [];
  for (const dep of deps) {
    const commit = dep.branch ? await branchCommit(repo, dep.branch) : undefined;
    if (commit) depCommits.push(commit);
  }
  return { head, base, comparison: await comparisonBase(repo, base, head, depCommits) };
}

/**
 * Counts an open pull request's files and lines at its current head and stores them (with the
 * commits they were counted at) when they changed. Returns the files.
 */
export async function recountWith(
  db: Db,
  repo: PullRepository,
  pr: PullRequestRow,
): Promise<{ points: PullPoints; files: ChangedFile[] } | undefined> {
  const points = await pullPoints(db, repo, pr);
  if (!points) return undefined;
  const files = await changedFiles(repo, points.comparison, points.head);
  if (pr.state === "open" && (pr.headCommit !== points.head || pr.comparisonCommit !== points.comparison)) {
    const additions = files.reduce((n, f) => n + f.additions, 0);
    const deletions = files.reduce((n, f) => n + f.deletions, 0);
    await db
      .update(pullRequests)
      .set({
        headCommit: points.head,
        comparisonCommit: points.comparison,
        additions,
        deletions,
        changedFiles: files.length,
        updatedAt: new Date(),
      })
      .where(and(eq(pullRequests.id, pr.id), eq(pullRequests.state, "open")));
    Object.assign(pr, { headCommit: points.head, comparisonCommit: points.comparison, additions, deletions });
    pr.changedFiles = files.length;
    emitPullChanged({ projectId: pr.projectId, pullRequestId: pr.id });
  }
  return { points, files };
}

/** Recounts a pull request on its own (after a revision pushed, or when it was opened). */
export async function recountPullRequest(db: Db, pr: PullRequestRow): Promise<void> {
  const project = await pullProject(db, pr);
  await withPullRepository(project, (repo) => recountWith(db, repo, pr));
}
