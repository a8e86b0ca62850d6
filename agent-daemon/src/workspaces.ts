import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { CreateWorkspaceRequest, WorkspaceResponse } from "./contract.ts";
import { RequestError } from "./errors.ts";
import { GitError, git } from "./git.ts";
import { type Mirrors, RepoUnreachableError } from "./mirrors.ts";
import { redactCredentials } from "./redact.ts";
import { unsupportedRepoReason } from "./repo-url.ts";

export interface Workspace extends WorkspaceResponse {
  taskId: string;
}

interface Entry {
  taskId: string;
  branch: string;
  /** Settles when the checkout is ready (or has failed and the entry is gone). */
  ready: Promise<Workspace>;
  workspace: Workspace | undefined;
  removing: boolean;
}

// Workspace ids become directory names: one path segment, no leading dot (temporary clones use it).
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TEMP_PREFIX = ".tmp-";
const CLONE_TIMEOUT_MS = 5 * 60_000;

/**
 * The workspaces on this node: one directory per task under `<dataDir>/workspaces`, each a clone of
 * the project repository on the task's own branch. Creating one counts against the node's capacity
 * from the moment it is asked for, so concurrent requests cannot overshoot it.
 */
export class Workspaces {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly root: string,
    private readonly mirrors: Mirrors,
    private readonly capacity: number,
  ) {}

  /** Registers the workspaces left by an earlier run of the daemon and removes half-made ones. */
  async load(): Promise<void> {
    fs.mkdirSync(this.root, { recursive: true });
    for (const name of fs.readdirSync(this.root)) {
      const dir = path.join(this.root, name);
      if (name.startsWith(TEMP_PREFIX) || !SAFE_ID.test(name)) {
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const config = await git(["config", "--get-regexp", "^sam\\."], { cwd: dir }).catch(() => "");
      const value = (key: string) => new RegExp(`^sam\\.${key} (.*)$`, "m").exec(config)?.[1];
      const workspace: Workspace = {
        workspaceId: name,
        taskId: value("taskid") ?? "",
        path: dir,
        branch: value("branch") ?? "",
        baseCommit: value("basecommit") ?? "",
      };
      this.entries.set(name, {
        taskId: workspace.taskId,
        branch: workspace.branch,
        ready: Promise.resolve(workspace),
        workspace,
        removing: false,
      });
    }
  }

  count(): number {
    return this.entries.size;
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
    const unsupported = unsupportedRepoReason(req.repo);
    if (unsupported) throw new RequestError(400, "unsupported_repo", `repo: ${unsupported}`);
    const existing = this.entries.get(req.workspaceId);
    if (existing) {
      if (existing.removing || existing.taskId !== req.taskId || existing.branch !== req.branch) {
        throw new RequestError(409, "workspace_exists", `Workspace ${req.workspaceId} already exists for another task`);
      }
      return { workspace: await existing.ready, created: false };
    }
    if (this.entries.size >= this.capacity) {
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

  /** Deletes the workspace's directory. Refuses one still being created. */
  async remove(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new RequestError(404, "workspace_not_found", `No workspace ${id} on this node`);
    if (!entry.workspace) throw new RequestError(409, "workspace_busy", `Workspace ${id} is still being created`);
    entry.removing = true;
    try {
      await fs.promises.rm(entry.workspace.path, { recursive: true, force: true });
    } finally {
      this.entries.delete(id);
    }
  }

  private async checkout(req: CreateWorkspaceRequest): Promise<Workspace> {
    await this.assertBranchName(req.baseBranch, "baseBranch");
    const dir = path.join(this.root, req.workspaceId);
    const temp = path.join(this.root, `${TEMP_PREFIX}${req.workspaceId}-${randomBytes(4).toString("hex")}`);
    try {
      await this.mirrors.use(req.repo, (mirror) =>
        // A clone from a local path hardlinks the mirror's (packed) objects: nearly free, and unlike
        // --shared the workspace does not depend on the mirror afterwards, so the mirror may gc
        // freely. (Not --local: that makes git fail instead of copying when the data dir spans
        // two filesystems.)
        git(
          [
            "clone",
            "--no-checkout",
            "--quiet",
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
            temp,
          ],
          { timeoutMs: CLONE_TIMEOUT_MS },
        ),
      );
      // The agent's fetches and the daemon's push go to the project repository, not the node's cache.
      await git(["remote", "set-url", "origin", "--", req.repo], { cwd: temp });
      const baseCommit = (
        await git(["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${req.baseBranch}^{commit}`], {
          cwd: temp,
        }).catch(() => {
          throw new RequestError(
            422,
            "base_branch_not_found",
            `baseBranch: ${req.baseBranch} does not exist in ${redactCredentials(req.repo)}`,
          );
        })
      ).trim();
      await git(["checkout", "--quiet", "--no-track", "-b", req.branch, baseCommit], {
        cwd: temp,
        timeoutMs: CLONE_TIMEOUT_MS,
      });
      await git(["config", "sam.baseCommit", baseCommit], { cwd: temp });
      // Renamed into place last, so a crash never leaves a half-made workspace under its real name.
      await fs.promises.rename(temp, dir);
      return { workspaceId: req.workspaceId, taskId: req.taskId, path: dir, branch: req.branch, baseCommit };
    } catch (err) {
      await fs.promises.rm(temp, { recursive: true, force: true });
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
