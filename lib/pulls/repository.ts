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
  /**
   * The branches checked out in a local repository's work trees (its own and any linked one), each
   * with its work tree's directory; read once per use. A remote's cache has none.
   */
  workTrees(): Promise<Map<string, string>>;
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
      let trees: Promise<Map<string, string>> | undefined;
      return work({
        project,
        dir: project.repo,
        ref: (branch) => `refs/heads/${branch}`,
        workTrees: () => {
          trees ??= checkedOutBranches(project.repo);
          return trees;
        },
      });
    }
    const repo: PullRepository = {
      project,
      dir: cacheDir(project),
      ref: (branch) => `refs/remotes/origin/${branch}`,
      workTrees: async () => new Map(),
    };
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

/** The commits several branches point at (a branch that does not exist is missing from the map), in one git. */
export async function branchCommits(repo: PullRepository, branches: string[]): Promise<Map<string, string>> {
  const refs = new Map(branches.map((b) => [repo.ref(b), b]));
  const { stdout } = await prGit(["for-each-ref", "--format=%(objectname) %(refname)", "--", ...refs.keys()], {
    cwd: repo.dir,
  });
  const commits = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const [commit, ref] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
    // A pattern also matches the refs below it (refs/heads/main/x): only exact names count.
    const branch = refs.get(ref);
    if (branch !== undefined && commit) commits.set(branch, commit);
  }
  return commits;
}

/** Each branch checked out in a work tree of the repository at `dir` → that work tree's directory. */
async function checkedOutBranches(dir: string): Promise<Map<string, string>> {
  // Records of NUL-separated lines ("worktree <dir>", "HEAD <sha>", "branch <ref>" or "bare"/"detached"),
  // each record ended by an empty line.
  const out = (await prGit(["worktree", "list", "--porcelain", "-z"], { cwd: dir })).stdout;
  const trees = new Map<string, string>();
  let tree: string | undefined;
  for (const line of out.split("\0")) {
    if (line.startsWith("worktree ")) tree = line.slice("worktree ".length);
    else if (line.startsWith("branch refs/heads/") && tree) trees.set(line.slice("branch refs/heads/".length), tree);
    else if (line === "") tree = undefined;
  }
  return trees;
}

/**
 * A work tree's HEAD commit and the paths with uncommitted changes to tracked files, from
 * `git status --porcelain=v2 --branch` (one git for both).
 */
export function parseStatus(out: string): { head: string | undefined; changed: string[] } {
  let head: string | undefined;
  const changed: string[] = [];
  for (const line of out.split("\n")) {
    if (line.startsWith("# branch.oid ")) head = line.slice("# branch.oid ".length).trim();
    // The path follows a fixed number of fields: 8 for a change, 9 for a rename or copy, 10 for a conflict.
    const fields = { "1": 8, "2": 9, u: 10 }[line[0] ?? ""];
    if (fields === undefined || line[1] !== " ") continue;
    const rest = line.split(" ").slice(fields).join(" ");
    changed.push(rest.split("\t")[0] ?? rest);
  }
  return { head, changed };
}

/** The base branch moved while SAM was merging: the caller checks again and retries. */
export class BranchMovedError extends Error {
  constructor(branch: string) {
    super(`${branch} moved during the merge`);
    this.name = "BranchMovedError";
  }
}

/**
 * Gets ready to move `branch` of the project from `from` to a descendant of it, as `git push` would
 * without force, and returns the move: if the branch moved meanwhile, nothing changes and
 * BranchMovedError says so. A branch checked out in a work tree (the repository's own or a linked
 * one) moves with its files, but only in a clean work tree: uncommitted changes are refused now,
 * never overwritten. Read before the merge commit is made, so both happen at once.
 */
export async function prepareAdvance(
  repo: PullRepository,
  branch: string,
  from: string,
): Promise<(to: string) => Promise<void>> {
  const { project, dir } = repo;
  if (project.repoKind === "remote") {
    return async (to) => {
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
    };
  }
  const tree = (await repo.workTrees()).get(branch);
  if (!tree) {
    return async (to) => {
      // Compare-and-swap: git refuses if the branch no longer points at `from`.
      const moved = await prGit(["update-ref", repo.ref(branch), to, from], { cwd: dir, okCodes: [1, 128] });
      if (moved.code !== 0) throw new BranchMovedError(branch);
    };
  }
  const { head, changed } = parseStatus(
    (await prGit(["status", "--porcelain=v2", "--branch", "--untracked-files=no"], { cwd: tree })).stdout,
  );
  if (changed.length > 0) {
    const shown = changed.slice(0, 5).join(", ") + (changed.length > 5 ? ` and ${changed.length - 5} more` : "");
    throw new SamError(
      "conflict",
      `${branch} is checked out in ${tree} with uncommitted changes (${shown}); commit or stash them, then merge again`,
      { reason: "dirty_work_tree", paths: changed },
    );
  }
  if (head !== from) throw new BranchMovedError(branch);
  return async (to) => {
    try {
      await prGit(["merge", "--ff-only", "--quiet", to], { cwd: tree });
    } catch (err) {
      // Committed to since it was read: read again.
      if (err instanceof PrGitError && /Not possible to fast-forward/i.test(err.stderr))
        throw new BranchMovedError(branch);
      if (err instanceof PrGitError && /overwritten/.test(err.stderr)) {
        throw new SamError(
          "conflict",
          `Merging would overwrite files in the work tree of ${tree} that git does not track: ${err.summary}`,
          { reason: "dirty_work_tree" },
        );
      }
      throw err;
    }
  };
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
  if ((await repo.workTrees()).has(branch)) return;
  await prGit(["update-ref", "-d", repo.ref(branch)], { cwd: dir, okCodes: [1] });
}
