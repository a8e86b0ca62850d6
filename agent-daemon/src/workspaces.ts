import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  type CreateWorkspaceRequest,
  type MergeBranch,
  type MergeIntoWorkspaceResponse,
  type MergeStrategy,
  repoLocationProblem,
  type WorkspaceResponse,
} from "./contract.ts";
import { RequestError } from "./errors.ts";
import { GitError, git } from "./git.ts";
import { workspaceGit } from "./git-save.ts";
import { mergeIntoWorkspace } from "./merge-branch.ts";
import { type Mirrors, RepoUnreachableError } from "./mirrors.ts";
import { redactCredentials } from "./redact.ts";
import type { Sandbox, SandboxDirs } from "./sandbox/sandbox.ts";

export interface Workspace extends WorkspaceResponse {
  taskId: string;
  /** The project repository, as the web app gave it: where the daemon pushes, whatever the agent set. */
  repo: string;
  /** The repository configuration as cloned, which the daemon's own git uses instead of the agent's. */
  pristineConfig: string;
  sandbox: SandboxDirs;
}

interface Entry {
  taskId: string;
  branch: string;
  /** Settles when the checkout is ready (or has failed and the entry is gone). */
  ready: Promise<Workspace>;
  workspace: Workspace | undefined;
  removing: boolean;
}

// Workspace ids become directory names: one path segment, no leading dot.
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CLONE_TIMEOUT_MS = 5 * 60_000;

/**
 * Gives the agent's user a fresh checkout: every directory and working file, but not the object
 * files, which are hard links shared with the node's mirror (and other workspaces) and stay
 * read-only to the agent. One `find` does it: thousands of files in a few milliseconds.
 */
function handOver(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  // Relative paths: the pattern must not depend on what characters the node's directory has.
  const args = [".", "(", "-path", "./.git/objects/*", "-type", "f", ")", "-prune", "-o"];
  args.push("-exec", "chown", "-h", `${owner.uid}:${owner.gid}`, "{}", "+");
  return new Promise((resolve, reject) => {
    execFile("find", args, { cwd: dir, timeout: CLONE_TIMEOUT_MS }, (err, _stdout, stderr) =>
      err
        ? reject(new Error(`could not hand the workspace to the agent's user: ${stderr.trim() || err.message}`))
        : resolve(),
    );
  });
}

/** Who the merge commits of dependency branches are by: SAM, not the task's agent. */
const MERGE_IDENTITY = ["-c", "user.name=SAM", "-c", "user.email=sam@sam.local", "-c", "rerere.enabled=false"];

/**
 * Merges the branches of the tasks this one depends on into its freshly checked-out branch, in
 * order, so its agent starts from their work. The clone has every branch of the (just fetched)
 * project repository under `origin/`; a branch that is not there belongs to a task that changed
 * nothing and is skipped. A conflict refuses the workspace, naming the dependency, the earlier
 * work it collides with, and the paths; unless the branch leaves its conflicts (the last one, by
 * the contract): then the merge stays in progress for the agent to resolve.
 */
async function mergeDependencies(dir: string, baseBranch: string, deps: MergeBranch[]): Promise<void> {
  const merged: { title: string; commit: string }[] = [];
  for (const dep of deps) {
    const commit = (
      await workspaceGit(dir, ["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${dep.branch}^{commit}`]).catch(
        () => "",
      )
    ).trim();
    if (!commit) continue;
    try {
      await workspaceGit(dir, [
        ...MERGE_IDENTITY,
        "merge",
        "--no-ff",
        "--no-edit",
        "--no-verify",
        "--quiet",
        "-m",
        `Merge the work of task "${dep.title}" (${dep.branch})`,
        commit,
      ]);
    } catch (err) {
      const conflicted = (await workspaceGit(dir, ["diff", "--name-only", "--diff-filter=U", "-z"]))
        .split("\0")
        .filter(Boolean);
      if (conflicted.length === 0) throw err;
      if (dep.leaveConflicts) return;
      const against = await collidingWork(dir, merged, conflicted);
      throw new RequestError(
        409,
        "merge_conflict",
        `The work of task "${dep.title}" (${dep.branch}) conflicts with ${
          against.length > 0 ? against.map((title) => `task "${title}"`).join(" and ") : baseBranch
        } in ${conflicted.join(", ")}`,
      );
    }
    merged.push({ title: dep.title, commit });
  }
}

/** The titles of the already merged dependencies that changed any of `paths` since the merge base. */
async function collidingWork(
  dir: string,
  merged: { title: string; commit: string }[],
  paths: string[],
): Promise<string[]> {
  const titles: string[] = [];
  for (const { title, commit } of merged) {
    const base = (await workspaceGit(dir, ["merge-base", "MERGE_HEAD", commit])).trim();
    const changed = await workspaceGit(dir, ["diff", "--name-only", base, commit, "--", ...paths]);
    if (changed.trim()) titles.push(title);
  }
  return titles;
}

/** What else happens when a workspace is made and removed: its agent's sandbox starts early. */
export interface WorkspaceHooks {
  /** The workspace's folder and sandbox directories exist; its repository is being cloned. */
  cloning(workspaceId: string, dirs: SandboxDirs, network: "open" | "none"): void;
  removed(workspaceId: string): void;
}

/**
 * The workspaces on this node: one directory per task under `<dataDir>/workspaces`, each a clone of
 * the project repository on the task's own branch, and beside it, under `<dataDir>/sandbox`, the
 * private HOME and /tmp its agent's sandbox gets. Creating one counts against the node's capacity
 * from the moment it is asked for, so concurrent requests cannot overshoot it.
 */
export class Workspaces {
  private readonly entries = new Map<string, Entry>();
  /** The merge running in each workspace: merges into one workspace take turns. */
  private readonly merging = new Map<string, Promise<unknown>>();
  private readonly sandboxRoot: string;
  /** Workspaces whose session is parked count against no capacity: a waiting parent must not starve its children. */
  private parked: (workspaceId: string) => boolean = () => false;

  constructor(
    private readonly root: string,
    private readonly mirrors: Mirrors,
    private readonly capacity: number,
    private readonly sandbox: Sandbox,
    private readonly hooks?: WorkspaceHooks,
  ) {
    this.sandboxRoot = path.join(path.dirname(root), "sandbox");
  }

  /**
   * Removes what an earlier run of the daemon left: sessions do not outlive the daemon, so no
   * workspace on disk has one, and the web app has already failed their tasks.
   */
  async load(): Promise<void> {
    for (const dir of [this.root, this.sandboxRoot]) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
  }

  /** The sandbox directories of a workspace whose checkout is complete. */
  sandboxDirs(id: string): SandboxDirs | undefined {
    return this.get(id)?.sandbox;
  }

  count(): number {
    return this.entries.size;
  }

  /** Tells which workspaces hold a parked session (the sessions are created after the workspaces). */
  countParkedBy(parked: (workspaceId: string) => boolean): void {
    this.parked = parked;
  }

  /** The workspaces that take a share of the node's capacity. */
  private occupied(): number {
    let n = 0;
    for (const id of this.entries.keys()) if (!this.parked(id)) n += 1;
    return n;
  }

  /** A workspace whose checkout is complete, or undefined. */
  get(id: string): Workspace | undefined {
    const entry = this.entries.get(id);
    return entry && !entry.removing ? entry.workspace : undefined;
  }

  /**
   * Creates the workspace, or answers with the existing one when the same request is repeated (the
   * web app retries after a timeout); `created` tells which.
   */
  async create(req: CreateWorkspaceRequest): Promise<{ workspace: Workspace; created: boolean }> {
    if (!SAFE_ID.test(req.workspaceId)) {
      throw new RequestError(400, "invalid_input", "workspaceId: must be letters, digits, '.', '_' or '-'");
    }
    const unsupported = repoLocationProblem(req.repo);
    if (unsupported) throw new RequestError(400, "unsupported_repo", `repo: ${unsupported.message}`);
    const existing = this.entries.get(req.workspaceId);
    if (existing) {
      if (existing.removing || existing.taskId !== req.taskId || existing.branch !== req.branch) {
        throw new RequestError(409, "workspace_exists", `Workspace ${req.workspaceId} already exists for another task`);
      }
      return { workspace: await existing.ready, created: false };
    }
    if (this.occupied() >= this.capacity) {
      throw new RequestError(409, "capacity_full", `This node is at its capacity of ${this.capacity} workspaces`);
    }
    const entry: Entry = {
      taskId: req.taskId,
      branch: req.branch,
      ready: this.checkout(req),
      workspace: undefined,
      removing: false,
    };
    this.entries.set(req.workspaceId, entry);
    try {
      entry.workspace = await entry.ready;
      return { workspace: entry.workspace, created: true };
    } catch (err) {
      this.entries.delete(req.workspaceId);
      throw err;
    }
  }

  /** Brings a branch of the project repository into a live workspace (see merge-branch.ts). */
  async merge(
    id: string,
    req: { branch: string; title: string; strategy: MergeStrategy },
  ): Promise<MergeIntoWorkspaceResponse> {
    const workspace = this.get(id);
    if (!workspace) throw new RequestError(404, "workspace_not_found", `No workspace ${id} on this node`);
    const previous = this.merging.get(id) ?? Promise.resolve();
    const run = previous
      .catch(() => {})
      .then(() => {
        if (!this.get(id)) throw new RequestError(404, "workspace_not_found", `No workspace ${id} on this node`);
        return mergeIntoWorkspace({ mirrors: this.mirrors, sandbox: this.sandbox }, workspace, req);
      });
    this.merging.set(id, run);
    try {
      return await run;
    } finally {
      if (this.merging.get(id) === run) this.merging.delete(id);
    }
  }

  /** Deletes the workspace's directory. Refuses one still being created. */
  async remove(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new RequestError(404, "workspace_not_found", `No workspace ${id} on this node`);
    if (!entry.workspace) throw new RequestError(409, "workspace_busy", `Workspace ${id} is still being created`);
    entry.removing = true;
    this.hooks?.removed(id);
    try {
      await fs.promises.rm(entry.workspace.path, { recursive: true, force: true });
      await fs.promises.rm(path.join(this.sandboxRoot, id), { recursive: true, force: true });
    } finally {
      this.entries.delete(id);
    }
  }

  private async checkout(req: CreateWorkspaceRequest): Promise<Workspace> {
    await this.assertBranchName(req.baseBranch, "baseBranch");
    for (const [index, merge] of (req.mergeBranches ?? []).entries()) {
      await this.assertBranchName(merge.branch, `mergeBranches.${index}.branch`);
    }
    const dir = path.join(this.root, req.workspaceId);
    const stateDir = path.join(this.sandboxRoot, req.workspaceId);
    try {
      // The folder exists before the clone, so the agent's sandbox (which binds it) starts meanwhile.
      // No half-made workspace outlives a crash: a restarted daemon removes them all.
      await fs.promises.mkdir(dir);
      const sandbox = this.sandbox.prepare(stateDir, dir);
      this.hooks?.cloning(req.workspaceId, sandbox, req.network ?? "open");
      await this.mirrors.use(req.repo, (mirror) =>
        // A clone from a local path hardlinks the mirror's (packed) objects: nearly free, and unlike
        // --shared the workspace does not depend on the mirror afterwards, so the mirror may gc
        // freely. (Not --local: that makes git fail instead of copying when the data dir spans
        // two filesystems.)
        workspaceGit(
          dir,
          [
            "clone",
            "--no-checkout",
            "--quiet",
            // Hard links to the mirror's objects are safe only when the agent cannot write them: a
            // daemon that is not root shares its user with its agents, so it copies them instead.
            ...(this.sandbox.enabled && !this.sandbox.agentOwner ? ["--no-hardlinks"] : []),
            "--config",
            `sam.taskId=${req.taskId}`,
            "--config",
            `sam.branch=${req.branch}`,
            // `git push` and `git pull` on the task branch work for the agent without arguments.
            "--config",
            `branch.${req.branch}.remote=origin`,
            "--config",
            `branch.${req.branch}.merge=refs/heads/${req.branch}`,
            "--",
            mirror,
            dir,
          ],
          CLONE_TIMEOUT_MS,
        ),
      );
      // The agent's fetches and the daemon's push go to the project repository, not the node's cache.
      await workspaceGit(dir, ["remote", "set-url", "origin", "--", req.repo]);
      const baseCommit = (
        await workspaceGit(dir, [
          "rev-parse",
          "--verify",
          "--quiet",
          `refs/remotes/origin/${req.baseBranch}^{commit}`,
        ]).catch(() => {
          throw new RequestError(
            422,
            "base_branch_not_found",
            `baseBranch: ${req.baseBranch} does not exist in ${redactCredentials(req.repo)}`,
          );
        })
      ).trim();
      await workspaceGit(dir, ["checkout", "--quiet", "--no-track", "-b", req.branch, baseCommit], CLONE_TIMEOUT_MS);
      await workspaceGit(dir, ["config", "sam.baseCommit", baseCommit]);
      await mergeDependencies(dir, req.baseBranch, req.mergeBranches ?? []);
      const pristineConfig = await fs.promises.readFile(path.join(dir, ".git", "config"), "utf8");
      const owner = this.sandbox.agentOwner;
      if (owner) await handOver(dir, owner);
      return {
        workspaceId: req.workspaceId,
        taskId: req.taskId,
        path: dir,
        branch: req.branch,
        baseCommit,
        repo: req.repo,
        pristineConfig,
        sandbox,
      };
    } catch (err) {
      this.hooks?.removed(req.workspaceId);
      await fs.promises.rm(dir, { recursive: true, force: true });
      await fs.promises.rm(stateDir, { recursive: true, force: true });
      if (err instanceof RepoUnreachableError) throw new RequestError(422, "repo_unreachable", err.message);
      if (err instanceof GitError)
        throw new RequestError(500, "git_failed", `Could not create the workspace: ${err.summary}`);
      throw err;
    }
  }

  private async assertBranchName(name: string, field: string): Promise<void> {
    await git(["check-ref-format", `refs/heads/${name}`]).catch(() => {
      throw new RequestError(400, "invalid_input", `${field}: ${JSON.stringify(name)} is not a valid branch name`);
    });
  }
}
