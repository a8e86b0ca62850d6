import { Octokit } from "@octokit/rest";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { projects } from "@/db/schema";
import { SamError } from "../../errors";
import { instanceSecretKey } from "../../secrets/instance-key";
import { revealSecret } from "../../secrets/store";
import { type GitHubRepository, githubRepository } from "./remote";

/** The project secret that lets SAM open, sync, merge and close its pull requests on GitHub. */
export const GITHUB_TOKEN_SECRET = "GITHUB_TOKEN";

// A call to GitHub that has not answered by then is given up; the next sync tries again.
const REQUEST_TIMEOUT_MS = 30_000;

export interface GitHubContext {
  repository: GitHubRepository;
  octokit: Octokit;
}

// Octokit logs each request at debug level; SAM keeps its log for failures, which it words itself.
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

const timedFetch: typeof fetch = (input, init) =>
  fetch(input, {
    ...init,
    signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(init?.signal ? [init.signal] : [])]),
  });

/**
 * The project's repository on GitHub and a client with its GITHUB_TOKEN secret, or undefined when
 * its remote is not on GitHub (or its GitHub Enterprise Server) or it has no such secret.
 */
export async function githubContext(db: Db, projectId: string): Promise<GitHubContext | undefined> {
  const project = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { repo: true, repoKind: true, githubUrl: true },
  });
  const repository = project && githubRepository(project);
  if (!repository) return undefined;
  const token = await revealSecret(db, instanceSecretKey(), projectId, GITHUB_TOKEN_SECRET);
  if (!token) return undefined;
  const octokit = new Octokit({
    auth: token,
    baseUrl: repository.apiUrl,
    userAgent: "SAM",
    log: quiet,
    request: { fetch: timedFetch },
  });
  return { repository, octokit };
}

/** The GitHub context a pull request that is on GitHub needs: without it SAM cannot act for it. */
export async function requireGitHubContext(db: Db, projectId: string, prNumber: number): Promise<GitHubContext> {
  const context = await githubContext(db, projectId);
  if (!context) {
    throw new SamError(
      "conflict",
      `Pull request #${prNumber} is on GitHub, and this project no longer has a ${GITHUB_TOKEN_SECRET} secret for its GitHub repository; add one in the project's settings`,
    );
  }
  return context;
}

// What an Octokit request error carries: GitHub's status and its answer's body.
const requestErrorSchema = z.object({
  status: z.number(),
  response: z.object({ data: z.unknown() }).optional(),
});
const githubErrorBodySchema = z.object({
  message: z.string(),
  errors: z
    .array(z.union([z.string(), z.object({ message: z.string().optional(), field: z.string().optional() })]))
    .optional(),
});

/** GitHub's own words for a failure: its message, then its validation errors' messages. */
function githubMessage(data: unknown): string | undefined {
  const body = githubErrorBodySchema.safeParse(data);
  if (!body.success) return undefined;
  const details = (body.data.errors ?? [])
    .map((e) => (typeof e === "string" ? e : (e.message ?? (e.field ? `invalid ${e.field}` : undefined))))
    .filter(Boolean);
  return details.length > 0 ? `${body.data.message} (${details.join("; ")})` : body.data.message;
}

/**
 * A failed call to GitHub as a SamError that says what SAM tried, on which repository, and GitHub's
 * own reason. The token never appears: GitHub's messages do not carry it, and Octokit's are not used.
 */
export function githubFailure(err: unknown, action: string, repository: GitHubRepository): SamError {
  if (SamError.is(err)) return err;
  const request = requestErrorSchema.safeParse(err);
  const where = repository.fullName;
  if (!request.success || request.data.status >= 500) {
    const status = request.success ? ` (HTTP ${request.data.status})` : "";
    // A network failure: fetch's own words (they name no credential).
    const reason = err instanceof Error ? err.message : "no answer";
    const message = request.success ? (githubMessage(request.data.response?.data) ?? reason) : reason;
    return new SamError(
      "unavailable",
      `GitHub at ${repository.apiUrl} could not ${action} on ${where}${status}: ${message}`,
    );
  }
  const { status } = request.data;
  const message = githubMessage(request.data.response?.data) ?? `HTTP ${status}`;
  if (status === 401) {
    return new SamError(
      "forbidden",
      `GitHub does not accept the ${GITHUB_TOKEN_SECRET} secret of this project (${message}); replace it in the project's settings`,
    );
  }
  if (status === 403) {
    return new SamError(
      "forbidden",
      `The ${GITHUB_TOKEN_SECRET} secret of this project cannot ${action} on ${where}: ${message}`,
    );
  }
  if (status === 404) {
    return new SamError(
      "not_found",
      `GitHub could not ${action} on ${where}: ${message} (the repository does not exist or the ${GITHUB_TOKEN_SECRET} secret of this project cannot see it)`,
    );
  }
  if (status === 405 || status === 409) {
    return new SamError("conflict", `GitHub refuses to ${action} on ${where}: ${message}`, {
      reason: "merge_conflict",
    });
  }
  return new SamError("invalid_input", `GitHub refused to ${action} on ${where}: ${message}`);
}
