import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../config";
import { SamError } from "../errors";
import { redactUrl } from "../projects/inspect-repo";
import { PrGitError, prGit } from "./pr-git";

/** What of a project the pull request code needs. */
export interface PullProject {
  id: string;
  repo: string;
  repoKind: "local" | "remote";
}

/**
 * Where SAM reads and writes a project's pull requests with git: the project's own repository when
 * it is a local path, or SAM's bare cache of a remote one, fetched before each use.
 */
export interface PullRepository {
  project: PullProject;
  dir: string;
  /** The ref a branch of the project is read under in `dir`. */
  ref(branch: string): string;
}

const FETCH_TIMEOUT_MS = 5 * 60_000;

// Git work on one project's repository never overlaps within this process: two fetches into one
// cache, or a merge racing a branch deletion, would trip over each other's refs.
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(work);
  queues.set(key, next);
  void next
    .catch(() => {})
    .finally(() => {
      if (queues.get(key) === next) queues.delete(key);
    });
  return next;
}

function cacheDir(project: PullProject): string {
  const key = createHash("sha256").update(`${project.id}\n${project.repo}`).digest("hex").slice(0, 32);
  return path.join(loadConfig().dataDir, "pull-cache", `${key}.git`);
}

/** The repository could not be read: a clear error naming it, never git's raw output alone. */
export function unreachable(project: PullProject, err: unknown): SamError {
  const why = err instanceof PrGitError ? err.summary : (err as Error).message;
  return new SamError("unavailable", `Cannot reach the repository ${redactUrl(project.repo)}: ${why}`);
}

/**
 * Runs `work` with the project's repository, fresh: a remote's branches are fetched into the cache
 * first. Calls for one project run one after another.
 */
export function withPullRepository<T>(project: PullProject, work: (repo: PullRepository) => Promise<T>): Promise<T> {
  return serialized(project.id, async () => {
    if (project.repoKind === "local") {
      if (!fs.existsSync(project.repo)) throw unreachable(project, new Error("the path no longer exists"));
      return work({ project, dir: project.repo, ref: (branch) => `refs/heads/${branch}` });
    }
    const repo: PullRepository = { project, dir: cacheDir(project), ref: (branch) => `refs/remotes/origin/${branch}` };
    if (!fs.existsSync(path.join(repo.dir, "HEAD"))) {
      fs.mkdirSync(path.dirname(repo.dir), { recursive: true });
      await prGit(["init", "--bare", "--quiet", repo.dir], { cwd: path.dirname(repo.dir) });
    }
    await refresh(repo);
    return work(repo);
  });
}

/** Brings a remote's cache up to date with every branch of the remote (a local repository is itself). */
export async function refresh(repo: PullRepository): Promise<void> {
  if (repo.project.repoKind === "local") return;
  try {
    await prGit(
      ["fetch", "--quiet", "--prune", "--no-tags", "--", repo.project.repo, "+refs/heads/*:refs/remotes/origin/*"],
      { cwd: repo.dir, timeoutMs: FETCH_TIMEOUT_MS },
    );
  } catch (err) {
    throw unreachable(repo.project, err);
  }
}

/** The commit a branch points at, or undefined when the branch does not exist. */
export async function branchCommit(repo: PullRepository, branch: string): Promise<string | undefined> {
  const { stdout, code } = await prGit(["rev-parse", "--verify", "--quiet", `${repo.ref(branch)}^{commit}`], {
    cwd: repo.dir,
    okCodes: [1],
  });
  return code === 0 ? stdout.trim() : undefined;
}

/** The branch currently checked out in a local, non-bare repository (undefined for a bare one). */
async function checkedOutBranch(dir: string): Promise<string | undefined> {
  // One git: "true|false" then HEAD's full name ("HEAD" when detached).
  const [bare, head = ""] = (
    await prGit(["rev-parse", "--is-bare-repository", "--symbolic-full-name", "HEAD"], { cwd: dir })
  ).stdout
    .trim()
    .split("\n");
  if (bare === "true" || !head.startsWith("refs/heads/")) return undefined;
  return head.slice("refs/heads/".length);
}

/** The base branch moved while SAM was merging: the caller checks again and retries. */
export class BranchMovedError extends Error {
  constructor(branch: string) {
    super(`${branch} moved during the merge`);
    this.name = "BranchMovedError";
  }
}

/**
 * Moves `branch` of the project from `from` to `to` (a descendant of it), as `git push` would
 * without force: if the branch moved meanwhile, nothing changes and BranchMovedError says so. A
 * local repository with the branch checked out gets its work tree updated too, but only a clean one:
 * uncommitted changes are refused, never overwritten.
 */
export async function advanceBranch(repo: PullRepository, branch: string, from: string, to: string): Promise<void> {
  const { project, dir } = repo;
  if (project.repoKind === "remote") {
    try {
      await prGit(["push", "--quiet", "--no-verify", "--", project.repo, `${to}:refs/heads/${branch}`], {
        cwd: dir,
        timeoutMs: FETCH_TIMEOUT_MS,
      });
    } catch (err) {
      if (err instanceof PrGitError && /rejected|non-fast-forward|fetch first/i.test(err.stderr)) {
        throw new BranchMovedError(branch);
      }
      throw unreachable(project, err);
    }
    await prGit(["update-ref", repo.ref(branch), to], { cwd: dir });
    return;
  }
  if ((await checkedOutBranch(dir)) === branch) {
    const [status, headOut] = await Promise.all([
      prGit(["status", "--porcelain", "--untracked-files=no"], { cwd: dir }),
      prGit(["rev-parse", "HEAD"], { cwd: dir }),
    ]);
    const dirty = status.stdout
      .split("\n")
      .map((line) => line.slice(3).trim())
      .filter(Boolean);
    if (dirty.length > 0) {
      const shown = dirty.slice(0, 5).join(", ") + (dirty.length > 5 ? ` and ${dirty.length - 5} more` : "");
      throw new SamError(
        "conflict",
        `${branch} is checked out in ${dir} with uncommitted changes (${shown}); commit or stash them, then merge again`,
        { reason: "dirty_work_tree", paths: dirty },
      );
    }
    if (headOut.stdout.trim() !== from) throw new BranchMovedError(branch);
    try {
      await prGit(["merge", "--ff-only", "--quiet", to], { cwd: dir });
    } catch (err) {
      if (err instanceof PrGitError && /overwritten/.test(err.stderr)) {
        throw new SamError(
          "conflict",
          `Merging would overwrite files in the work tree of ${dir} that git does not track: ${err.summary}`,
          { reason: "dirty_work_tree" },
        );
      }
      throw err;
    }
    return;
  }
  // Compare-and-swap: git refuses if the branch no longer points at `from`.
  const moved = await prGit(["update-ref", repo.ref(branch), to, from], { cwd: dir, okCodes: [1, 128] });
  if (moved.code !== 0) throw new BranchMovedError(branch);
}

/**
 * Deletes a pull request's branch from the project's repository. A branch checked out in a local
 * work tree stays (deleting it would leave that work tree on nothing); one already gone is fine.
 */
export async function deleteBranch(repo: PullRepository, branch: string): Promise<void> {
  const { project, dir } = repo;
  if (project.repoKind === "remote") {
    const { code } = await prGit(["push", "--quiet", "--no-verify", "--", project.repo, `:refs/heads/${branch}`], {
      cwd: dir,
      timeoutMs: FETCH_TIMEOUT_MS,
      okCodes: [1],
    });
    if (code === 0) await prGit(["update-ref", "-d", repo.ref(branch)], { cwd: dir, okCodes: [1] });
    return;
  }
  if ((await checkedOutBranch(dir)) === branch) return;
  await prGit(["update-ref", "-d", repo.ref(branch)], { cwd: dir, okCodes: [1] });
}
