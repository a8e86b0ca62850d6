import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import type { MergeStrategy } from "@/db/schema";
import { SamError } from "../../errors";
import { emitPullChanged } from "../../events/bus";
import { newId } from "../../ids";
import { type PullRequestRow, recountWith } from "../figures";
import type { PullRepository } from "../repository";
import { type GitHubContext, githubContext, githubFailure, requireGitHubContext } from "./client";

// GitHub's answers, as far as SAM reads them (GitHub's "Pull Request" and comment objects).
const pullSchema = z.object({
  number: z.number().int().positive(),
  html_url: z.string().min(1),
  state: z.enum(["open", "closed"]),
  merged: z.boolean().optional(),
  merged_at: z.string().nullable().optional(),
  merge_commit_sha: z.string().nullable().optional(),
});
const mergeResultSchema = z.object({ sha: z.string().min(1), merged: z.boolean() });
const commentSchema = z.object({
  id: z.number(),
  body: z.string().nullable().optional(),
  user: z.object({ login: z.string() }).nullable(),
  created_at: z.string(),
});
const reviewCommentSchema = commentSchema.extend({
  path: z.string(),
  line: z.number().nullable().optional(),
  original_line: z.number().nullable().optional(),
});

export type GitHubPull = z.infer<typeof pullSchema>;

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;

function parseAnswer<T>(schema: z.ZodType<T>, data: unknown, what: string, context: GitHubContext): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new SamError(
      "unavailable",
      `GitHub's answer to ${what} on ${context.repository.fullName} is not what its API documents: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/**
 * Opens the pull request on GitHub when its project's remote is there and it has a GITHUB_TOKEN
 * secret, storing its URL and GitHub's number. A failure leaves SAM's pull request as it is and is
 * recorded on it (`githubError`) and logged; a later sync tries again. Returns whether it is on GitHub.
 */
export async function openOnGitHub(db: Db, pr: PullRequestRow): Promise<boolean> {
  if (pr.githubNumber) return true;
  // One open of a pull request at a time in this process: a second caller (the sync, while the
  // task's own open is under way) shares the first's answer instead of opening it twice.
  let open = opening.get(pr.id);
  if (!open) {
    open = openOnce(db, pr).finally(() => opening.delete(pr.id));
    opening.set(pr.id, open);
  }
  const link = await open;
  if (link) Object.assign(pr, { ...link, githubError: null });
  return link !== undefined;
}

const opening = new Map<string, Promise<{ url: string; githubNumber: number } | undefined>>();

async function openOnce(db: Db, pr: PullRequestRow): Promise<{ url: string; githubNumber: number } | undefined> {
  // The row in hand may be older than an open that has finished since.
  const now = await db.query.pullRequests.findFirst({
    where: (p, { eq }) => eq(p.id, pr.id),
    columns: { url: true, githubNumber: true },
  });
  if (now?.githubNumber && now.url) return { url: now.url, githubNumber: now.githubNumber };
  const context = await githubContext(db, pr.projectId);
  if (!context) return undefined;
  const { owner, name } = context.repository;
  try {
    const created = await context.octokit.pulls.create({
      owner,
      repo: name,
      title: pr.title,
      body: pr.body,
      head: pr.headBranch,
      base: pr.baseBranch,
    });
    const pull = parseAnswer(pullSchema, created.data, "opening a pull request", context);
    // Invariant: a SAM pull request is linked to one GitHub pull request, the first one opened.
    await db.run(sql`
      UPDATE pull_requests SET url = ${pull.html_url}, github_number = ${pull.number}, github_error = NULL,
        github_synced_at = ${NOW}, updated_at = ${NOW}
      WHERE id = ${pr.id} AND github_number IS NULL`);
    emitPullChanged({ projectId: pr.projectId, pullRequestId: pr.id });
    return { url: pull.html_url, githubNumber: pull.number };
  } catch (err) {
    const failure = githubFailure(err, "open a pull request", context.repository);
    console.error(`sam: pull request #${pr.number}: ${failure.message}`);
    // A pull request another instance has linked meanwhile keeps no error from this attempt.
    await db.run(sql`UPDATE pull_requests SET github_error = ${failure.message}, updated_at = ${NOW}
      WHERE id = ${pr.id} AND github_number IS NULL`);
    pr.githubError = failure.message;
    emitPullChanged({ projectId: pr.projectId, pullRequestId: pr.id });
    return undefined;
  }
}

/** Pages through a list GitHub answers (100 a page, GitHub's largest). */
async function allPages<T>(
  context: GitHubContext,
  page: (n: number) => Promise<{ data: unknown }>,
  schema: z.ZodType<T>,
  what: string,
): Promise<T[]> {
  const all: T[] = [];
  for (let n = 1; ; n++) {
    const items = parseAnswer(z.array(schema), (await page(n)).data, what, context);
    all.push(...items);
    if (items.length < 100) return all;
  }
}

/**
 * Reads a pull request that is on GitHub: its state, and its review and conversation comments, which
 * are stored once each (by their GitHub id) among SAM's comments. Returns GitHub's pull request.
 */
export async function readFromGitHub(db: Db, pr: PullRequestRow, context: GitHubContext): Promise<GitHubPull> {
  const number = pr.githubNumber as number;
  const { owner, name } = context.repository;
  const action = `read pull request #${number}`;
  try {
    const pull = parseAnswer(
      pullSchema,
      (await context.octokit.pulls.get({ owner, repo: name, pull_number: number })).data,
      action,
      context,
    );
    const review = await allPages(
      context,
      (page) =>
        context.octokit.pulls.listReviewComments({ owner, repo: name, pull_number: number, per_page: 100, page }),
      reviewCommentSchema,
      action,
    );
    const conversation = await allPages(
      context,
      (page) => context.octokit.issues.listComments({ owner, repo: name, issue_number: number, per_page: 100, page }),
      commentSchema,
      action,
    );
    // Review and conversation comments are numbered apart on GitHub: the kind is part of the id.
    const rows = [
      ...review.map((c) => ({ c, githubId: `review:${c.id}`, path: c.path, line: c.line ?? c.original_line ?? null })),
      ...conversation.map((c) => ({ c, githubId: `issue:${c.id}`, path: null, line: null })),
    ];
    let added = 0;
    for (const { c, githubId, path, line } of rows) {
      const createdAt = Date.parse(c.created_at);
      // Invariant: a GitHub comment is stored once per pull request (unique index on github_id).
      const inserted = await db.run(sql`
        INSERT INTO pull_request_comments (id, pull_request_id, author_name, body, path, line, github_id, created_at)
        VALUES (${newId()}, ${pr.id}, ${c.user?.login ?? "ghost"}, ${c.body ?? ""}, ${path}, ${line}, ${githubId},
          ${Number.isNaN(createdAt) ? Date.now() : createdAt})
        ON CONFLICT (pull_request_id, github_id) DO NOTHING`);
      added += inserted.rowsAffected;
    }
    await db.run(sql`UPDATE pull_requests SET github_synced_at = ${NOW}, github_error = NULL WHERE id = ${pr.id}`);
    if (added > 0 || pr.githubError) emitPullChanged({ projectId: pr.projectId, pullRequestId: pr.id });
    pr.githubError = null;
    return pull;
  } catch (err) {
    throw githubFailure(err, action, context.repository);
  }
}

/**
 * Merges a pull request that is on GitHub there, by `strategy`, and returns GitHub's merge commit.
 * Its figures are counted first at the head SAM reads, and GitHub merges only that head (`sha`), so
 * what is merged is what the PR showed. GitHub checks for conflicts: a refusal is a `conflict`.
 */
export async function mergeOnGitHub(
  db: Db,
  repo: PullRepository,
  pr: PullRequestRow,
  strategy: MergeStrategy,
): Promise<string> {
  const number = pr.githubNumber as number;
  const context = await requireGitHubContext(db, pr.projectId, pr.number);
  const counted = await recountWith(db, repo, pr);
  const headCommit = counted?.points.head;
  const { owner, name } = context.repository;
  const action = `merge pull request #${number}`;
  try {
    const result = await context.octokit.pulls.merge({
      owner,
      repo: name,
      pull_number: number,
      merge_method: strategy,
      ...(headCommit ? { sha: headCommit } : {}),
    });
    const merged = parseAnswer(mergeResultSchema, result.data, action, context);
    if (!merged.merged) throw new SamError("conflict", `GitHub did not ${action} on ${context.repository.fullName}`);
    return merged.sha;
  } catch (err) {
    throw githubFailure(err, action, context.repository);
  }
}

/** Closes a pull request that is on GitHub there, without merging it. */
export async function closeOnGitHub(db: Db, pr: PullRequestRow): Promise<void> {
  const number = pr.githubNumber as number;
  const context = await requireGitHubContext(db, pr.projectId, pr.number);
  const { owner, name } = context.repository;
  try {
    await context.octokit.pulls.update({ owner, repo: name, pull_number: number, state: "closed" });
  } catch (err) {
    throw githubFailure(err, `close pull request #${number}`, context.repository);
  }
}

/**
 * Deletes a merged or closed pull request's branch on GitHub. One already gone is fine; another
 * failure leaves the branch and is only logged.
 */
export async function deleteBranchOnGitHub(db: Db, pr: PullRequestRow): Promise<void> {
  const context = await githubContext(db, pr.projectId);
  if (!context) return;
  const { owner, name } = context.repository;
  try {
    await context.octokit.git.deleteRef({ owner, repo: name, ref: `heads/${pr.headBranch}` });
  } catch (err) {
    const failure = githubFailure(err, `delete the branch ${pr.headBranch}`, context.repository);
    if (!/Reference does not exist/i.test(failure.message)) console.error(`sam: ${failure.message}`);
  }
}
