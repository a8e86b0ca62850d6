import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { projects, pullRequests } from "@/db/schema";
import { type PullRequestRow, recountPullRequest } from "../figures";
import { settlePullRequest } from "../states";
import { GITHUB_TOKEN_SECRET, githubContext } from "./client";
import { deleteBranchOnGitHub, openOnGitHub, readFromGitHub } from "./pulls";

// How often each open pull request on GitHub is read again (GitHub allows 5,000 calls an hour per
// token; a sync costs three). Tests shorten it.
const envSchema = z.object({
  SAM_GITHUB_SYNC_MS: z.coerce
    .number({ message: "SAM_GITHUB_SYNC_MS must be milliseconds" })
    .int()
    .min(100, { message: "SAM_GITHUB_SYNC_MS must be at least 100" })
    .max(86_400_000, { message: "SAM_GITHUB_SYNC_MS must be at most a day" })
    .default(60_000),
});
const SYNC_MS = envSchema.parse({ SAM_GITHUB_SYNC_MS: process.env.SAM_GITHUB_SYNC_MS || undefined }).SAM_GITHUB_SYNC_MS;
// Pull requests read per pass: a project with many open ones is worked through over several.
const BATCH = 10;
const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;

/**
 * Takes an open pull request for one sync: nobody (in this process or another) synced it within
 * SYNC_MS. The stamp is written first so concurrent passes skip it.
 */
async function claimSync(db: Db, id: string): Promise<boolean> {
  // Invariant: an open pull request is synced with GitHub at most once per SYNC_MS, by one pass.
  const taken = await db.run(sql`
    UPDATE pull_requests SET github_synced_at = ${NOW}
    WHERE id = ${id} AND state = 'open'
      AND (github_synced_at IS NULL OR github_synced_at < ${NOW} - ${SYNC_MS})`);
  return taken.rowsAffected === 1;
}

/**
 * Brings one open pull request in line with GitHub: opens it there if it is not yet (its project got
 * a GITHUB_TOKEN secret, or opening failed before), otherwise reads its comments and state, and a
 * merge or close done on GitHub becomes SAM's (its idea follows), with the branch deleted if the
 * project says so. A failure is recorded on the pull request, never thrown.
 */
async function syncOne(db: Db, pr: PullRequestRow): Promise<void> {
  if (!pr.githubNumber) {
    await openOnGitHub(db, pr);
    return;
  }
  const context = await githubContext(db, pr.projectId);
  if (!context) return;
  try {
    const pull = await readFromGitHub(db, pr, context);
    if (pull.state !== "closed") return;
    const merged = pull.merged === true || Boolean(pull.merged_at);
    // The figures are counted at the head GitHub merged, so its diff stays readable afterwards.
    if (merged) await recountPullRequest(db, pr).catch(() => undefined);
    const moved = await settlePullRequest(db, {
      pullRequestId: pr.id,
      to: merged ? "merged" : "closed",
      userId: null,
      ...(merged && pull.merge_commit_sha ? { mergeCommit: pull.merge_commit_sha } : {}),
    });
    const project = await db.query.projects.findFirst({
      where: (p, { eq }) => eq(p.id, pr.projectId),
      columns: { deleteBranches: true },
    });
    if (moved && project?.deleteBranches) await deleteBranchOnGitHub(db, pr);
  } catch (err) {
    const message = (err as Error).message;
    console.error(`sam: pull request #${pr.number}: ${message}`);
    await db.run(sql`UPDATE pull_requests SET github_error = ${message} WHERE id = ${pr.id}`);
  }
}

/**
 * Syncs the open pull requests of projects with a GITHUB_TOKEN secret that were not synced within
 * SYNC_MS: all of them (the scheduler's tick), one project's (its list is shown) or one (it is
 * shown). Never throws: a failure is recorded on its pull request.
 */
export async function syncGitHubPullRequests(
  db: Db,
  scope: { projectId?: string; pullRequestId?: string } = {},
): Promise<void> {
  const rows = await db.all<{ id: string }>(sql`
    SELECT p.id FROM ${pullRequests} p JOIN ${projects} j ON j.id = p.project_id
    WHERE p.state = 'open' AND j.repo_kind = 'remote'
      AND (p.github_synced_at IS NULL OR p.github_synced_at < ${NOW} - ${SYNC_MS})
      AND EXISTS (SELECT 1 FROM secrets s WHERE s.project_id = p.project_id AND s.name = ${GITHUB_TOKEN_SECRET})
      ${scope.projectId ? sql`AND p.project_id = ${scope.projectId}` : sql``}
      ${scope.pullRequestId ? sql`AND p.id = ${scope.pullRequestId}` : sql``}
    ORDER BY p.github_synced_at IS NOT NULL, p.github_synced_at
    LIMIT ${BATCH}`);
  for (const { id } of rows) {
    try {
      if (!(await claimSync(db, id))) continue;
      const pr = await db.query.pullRequests.findFirst({ where: (p, { eq }) => eq(p.id, id) });
      if (pr?.state === "open") await syncOne(db, pr);
    } catch (err) {
      console.error(`sam: syncing a pull request with GitHub failed: ${(err as Error).message}`);
    }
  }
}

let running: Promise<void> | undefined;

/**
 * The scheduler's part: starts a sync of every project's pull requests on GitHub in the background,
 * unless the previous one is still running, so a slow GitHub never holds up scheduling.
 */
export function syncGitHubInBackground(db: Db): void {
  if (running) return;
  running = syncGitHubPullRequests(db)
    .catch((err: unknown) => console.error(`sam: syncing pull requests with GitHub failed: ${(err as Error).message}`))
    .finally(() => {
      running = undefined;
    });
}

/**
 * Opens a pull request SAM just recorded on GitHub, if its project is there (ensurePullRequest's
 * part). Taken like a sync, so the scheduler's pass does not open it a second time meanwhile.
 */
export async function openPullRequestOnGitHub(db: Db, pr: PullRequestRow): Promise<void> {
  if (pr.githubNumber || !(await githubContext(db, pr.projectId))) return;
  if (await claimSync(db, pr.id)) await openOnGitHub(db, pr);
}
