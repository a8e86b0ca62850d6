import fs from "node:fs/promises";
import path from "node:path";
import { isRepoUrl, repoLocationProblem } from "@sam/agent-daemon/contract";
import { SamError } from "../errors";
import { runGit } from "../git/run-git";

export interface RepoInfo {
  /** Absolute path for a local repository, the URL (without credentials) for a remote one. */
  repo: string;
  repoKind: "local" | "remote";
  defaultBranch: string;
}

function repoError(message: string): SamError {
  return new SamError("repo_invalid", message, { fields: [{ field: "repo", message }] });
}

/** Removes user:password from a URL so that no credential reaches the database or a log. */
export function redactUrl(input: string): string {
  try {
    const url = new URL(input);
    if (url.username || url.password) {
      url.username = "";
      url.password = "";
    }
    return url.toString();
  } catch {
    return input;
  }
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? "no output"
  );
}

/** Checks a repository URL's form by the rule the daemon applies too; returns it or throws naming what is wrong. */
export function parseRepoUrl(input: string): string {
  const problem = repoLocationProblem(input);
  if (!problem) return input;
  if (problem.kind === "scheme") {
    const scheme = /^[^:]*:/.exec(input)?.[0] ?? input;
    throw repoError(`Unsupported repository URL scheme ${JSON.stringify(scheme)}: ${problem.message}`);
  }
  throw repoError(`Malformed repository URL: ${JSON.stringify(redactUrl(input))}: ${problem.message}`);
}

async function inspectRemote(input: string): Promise<RepoInfo> {
  const url = parseRepoUrl(input);
  const shown = redactUrl(url);
  const result = await runGit(["ls-remote", "--symref", "--", url, "HEAD"], { timeoutMs: 30_000 });
  if (result.timedOut) throw repoError(`Timed out reaching the repository at ${shown}`);
  if (result.code !== 0) {
    throw repoError(`Could not read the repository at ${shown}: ${firstLine(result.stderr)}`);
  }
  const symref = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(result.stdout);
  if (!symref?.[1]) {
    throw repoError(`The repository at ${shown} has no default branch (is it empty?)`);
  }
  return { repo: shown, repoKind: "remote", defaultBranch: symref[1] };
}

async function inspectLocal(input: string): Promise<RepoInfo> {
  const abs = path.resolve(input);
  let stat: Awaited<ReturnType<typeof fs.stat>>;
  try {
    stat = await fs.stat(abs);
  } catch {
    throw repoError(`No such path: ${abs}`);
  }
  if (!stat.isDirectory()) throw repoError(`Not a directory: ${abs}`);

  // --show-toplevel fails in a bare repository, so bareness is asked first; a bare repository's
  // top level is its git dir.
  const probe = await runGit(["rev-parse", "--is-bare-repository", "--absolute-git-dir"], { cwd: abs });
  if (probe.code !== 0) throw repoError(`Not a git repository: ${abs}`);
  const [bare, gitDir = abs] = probe.stdout.trim().split("\n");
  let top = gitDir;
  if (bare !== "true") {
    const workTree = await runGit(["rev-parse", "--show-toplevel"], { cwd: abs });
    if (workTree.code !== 0) {
      throw repoError(`${abs} is inside the git directory ${gitDir}; give the repository's top-level path`);
    }
    top = workTree.stdout.trim();
  }
  if (path.resolve(top) !== (await fs.realpath(abs))) {
    throw repoError(`${abs} is inside the git repository at ${top}; give the repository's top-level path`);
  }
  const head = await runGit(["symbolic-ref", "--short", "HEAD"], { cwd: abs });
  if (head.code !== 0) throw repoError(`The repository at ${abs} has a detached HEAD; check out a branch`);
  const branch = head.stdout.trim();
  const commit = await runGit(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { cwd: abs });
  if (commit.code !== 0) throw repoError(`The repository at ${abs} has no commits on ${branch} yet`);
  return { repo: abs, repoKind: "local", defaultBranch: branch };
}

/** Finds out whether `input` is a usable git repository and which branch is its default. */
export async function inspectRepo(input: string): Promise<RepoInfo> {
  const trimmed = input.trim();
  if (trimmed === "") throw repoError("A repository path or URL is required");
  return isRepoUrl(trimmed) ? inspectRemote(trimmed) : inspectLocal(trimmed);
}
