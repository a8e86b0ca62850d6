import { and, desc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type PullRequestState, pullRequests } from "@/db/schema";
import { listComments } from "./comments";
import { type ChangedFile, checkMerge, commitsBetween, type FileDiff, fileDiffs } from "./diff";
import { type PullRequestRow, pullPoints, pullProject, recountWith } from "./figures";
import { withPullRepository } from "./repository";

/** A pull request as lists show it (`sam pr list --json`, GET /api/projects/<id>/pulls). */
export function pullSummary(pr: PullRequestRow) {
  return {
    id: pr.id,
    number: pr.number,
    taskId: pr.taskId,
    title: pr.title,
    state: pr.state,
    headBranch: pr.headBranch,
    baseBranch: pr.baseBranch,
    url: pr.url,
    additions: pr.additions,
    deletions: pr.deletions,
    changedFiles: pr.changedFiles,
  };
}
export type PullSummary = ReturnType<typeof pullSummary>;

export async function listPullRequests(db: Db, projectId: string, state?: PullRequestState): Promise<PullSummary[]> {
  const rows = await db.query.pullRequests.findMany({
    where: and(eq(pullRequests.projectId, projectId), state ? eq(pullRequests.state, state) : undefined),
    orderBy: [desc(pullRequests.number)],
  });
  return rows.map(pullSummary);
}

function fileSummary(file: ChangedFile) {
  return {
    path: file.path,
    ...(file.oldPath ? { oldPath: file.oldPath } : {}),
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
  };
}

/**
 * A pull request whole (`sam pr show --json`): the summary, its files, commits, whether it merges
 * (and which paths conflict), and its comments. Read from git at its current head; an open PR's
 * figures are brought up to date on the way.
 */
export async function showPullRequest(db: Db, pr: PullRequestRow) {
  const project = await pullProject(db, pr);
  const git = await withPullRepository(project, async (repo) => {
    const counted = await recountWith(db, repo, pr);
    if (!counted) return undefined;
    const { points, files } = counted;
    const [commits, check] = await Promise.all([
      commitsBetween(repo, points.comparison, points.head),
      pr.state === "open" ? checkMerge(repo, points.base, points.head) : undefined,
    ]);
    return { files, commits, check, points };
  });
  const comments = await listComments(db, pr.id);
  return {
    ...pullSummary(pr),
    body: pr.body,
    createdAt: pr.createdAt.toISOString(),
    mergedAt: pr.mergedAt?.toISOString() ?? null,
    closedAt: pr.closedAt?.toISOString() ?? null,
    mergeCommit: pr.mergeCommit,
    mergeStrategy: pr.mergeStrategy,
    headCommit: git?.points.head ?? pr.headCommit,
    files: (git?.files ?? []).map(fileSummary),
    commits: git?.commits ?? [],
    // Only an open PR can merge; one whose branch is gone cannot.
    mergeable: pr.state === "open" ? (git?.check?.mergeable ?? false) : false,
    conflicts: git?.check?.conflicts ?? [],
    comments: comments.map((c) => ({
      id: c.id,
      author: c.authorName,
      body: c.body,
      path: c.path,
      line: c.line,
      createdAt: c.createdAt.toISOString(),
      sentAt: c.sentAt?.toISOString() ?? null,
    })),
  };
}
export type PullDetail = Awaited<ReturnType<typeof showPullRequest>>;

/** Every changed file's unified diff, for the PR page to render. */
export async function pullRequestDiff(db: Db, pr: PullRequestRow): Promise<FileDiff[]> {
  const project = await pullProject(db, pr);
  return withPullRepository(project, async (repo) => {
    const points = await pullPoints(db, repo, pr);
    return points ? fileDiffs(repo, points.comparison, points.head) : [];
  });
}
