import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  healthResponseSchema,
  mergeIntoWorkspaceResponseSchema,
  type WorkspaceResponse,
  workspaceResponseSchema,
} from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { commitFiles, gitIn, makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

interface ErrorBody {
  error: { code: string; message: string };
}

// The uid the daemon's agents run as: its own, or (a root daemon) the configured sandbox uid.
const AGENT_UID = process.getuid?.() === 0 ? 2_000_000_000 : (process.getuid?.() ?? 0);

/**
 * Acts as the workspace's agent: writes and commits with the test's git, then gives the files back
 * to the agent's user the way the daemon hands a workspace over (object files stay shared).
 */
function agentCommits(ws: string, files: Record<string, string>, message: string): string {
  const commit = commitFiles(ws, files, message);
  handBack(ws);
  return commit;
}

function handBack(ws: string): void {
  if (process.getuid?.() !== 0) return;
  execFileSync(
    "find",
    [".", "(", "-path", "./.git/objects/*", "-type", "f", ")", "-prune", "-o"].concat([
      "-exec",
      "chown",
      "-h",
      `${AGENT_UID}:${AGENT_UID}`,
      "{}",
      "+",
    ]),
    { cwd: ws },
  );
}

/** A branch of the project repository made from main with `commits`, each a set of files. */
function pushedBranch(source: string, branch: string, commits: Array<Record<string, string>>): string[] {
  gitIn(source, "checkout", "--quiet", "-b", branch, "main");
  const made = commits.map((files, index) => commitFiles(source, files, `${branch}: step ${index + 1}`));
  gitIn(source, "checkout", "--quiet", "main");
  return made;
}

function startNode(temp: string, name: string, env: Record<string, string> = {}) {
  return spawnDaemon({
    SAM_NODE_ID: name,
    SAM_NODE_TOKEN: newNodeToken(),
    SAM_DAEMON_DATA_DIR: path.join(temp, name),
    SAM_NODE_CAPACITY: "16",
    ...env,
  });
}

describe("merging a subtask's branch into a live workspace", () => {
  const temp = makeTempDir("sam-merge-branch-");
  const source = makeRepo(path.join(temp.dir, "source"), { "README.md": "# source\nstatus: draft\n" });
  const childCommits = pushedBranch(source, "sam/child-work-1", [
    { "a.txt": "from the child\n" },
    { "b.txt": "more from the child\n" },
  ]);
  pushedBranch(source, "sam/ship-it-2", [{ "README.md": "# source\nstatus: shipped\n" }]);
  let daemon: DaemonProcess;
  let next = 0;

  beforeAll(async () => {
    daemon = startNode(temp.dir, "node-merge");
    const health = healthResponseSchema.parse((await daemon.call("GET", "/health")).body);
    // Everything below is about the agent's sandbox: it must really be there.
    expect(health.sandbox.state).toBe("on");
  });
  afterAll(async () => {
    await daemon.stop();
    temp.cleanup();
  });

  async function workspace(): Promise<WorkspaceResponse> {
    next += 1;
    const res = await daemon.call("POST", "/workspaces", {
      workspaceId: `parent-${next}`,
      taskId: `task-parent-${next}`,
      repo: source,
      baseBranch: "main",
      branch: `sam/parent-${next}`,
    });
    expect(res.status).toBe(201);
    return workspaceResponseSchema.parse(res.body);
  }

  const merge = (ws: WorkspaceResponse, body: Record<string, unknown>) =>
    daemon.call("POST", `/workspaces/${ws.workspaceId}/merge`, { title: "Write the child's files", ...body });

  it("merge: the branch arrives as SAM's merge commit, run as the agent's user, and the child's commits are in HEAD", async () => {
    const ws = await workspace();
    const res = await merge(ws, { branch: "sam/child-work-1" });
    expect(res.status).toBe(200);
    const result = mergeIntoWorkspaceResponseSchema.parse(res.body);
    expect(result).toEqual({ merged: true, commit: gitIn(ws.path, "rev-parse", "HEAD"), strategy: "merge" });
    expect(gitIn(ws.path, "log", "-1", "--format=%an <%ae>|%cn|%s")).toBe(
      'SAM <sam@sam.local>|SAM|Merge the work of subtask "Write the child\'s files" (sam/child-work-1)',
    );
    expect(gitIn(ws.path, "rev-parse", "HEAD^1")).toBe(ws.baseCommit);
    expect(gitIn(ws.path, "rev-parse", "HEAD^2")).toBe(childCommits[1]);
    expect(gitIn(ws.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe(`sam/parent-${next}`);
    expect(fs.readFileSync(path.join(ws.path, "a.txt"), "utf8")).toBe("from the child\n");
    expect(gitIn(ws.path, "status", "--porcelain")).toBe("");
    // The merge wrote the files as the agent: they stay the agent's to change.
    expect(fs.statSync(path.join(ws.path, "b.txt")).uid).toBe(AGENT_UID);
  });

  it("squash: one commit by SAM with all of the child's changes and none of its history", async () => {
    const ws = await workspace();
    const result = mergeIntoWorkspaceResponseSchema.parse(
      (await merge(ws, { branch: "sam/child-work-1", strategy: "squash" })).body,
    );
    expect(result).toMatchObject({ merged: true, strategy: "squash" });
    expect(gitIn(ws.path, "log", "--format=%an|%s", `${ws.baseCommit}..HEAD`)).toBe("SAM|Write the child's files");
    expect(gitIn(ws.path, "log", "-1", "--format=%b")).toBe(
      'The work of subtask "Write the child\'s files" (sam/child-work-1), squashed.',
    );
    expect(gitIn(ws.path, "rev-parse", "HEAD^")).toBe(ws.baseCommit);
    expect(gitIn(ws.path, "diff", "--name-only", ws.baseCommit, "HEAD").split("\n")).toEqual(["a.txt", "b.txt"]);
  });

  it("rebase: the child's own commits replayed on top of the parent's, with their authors and messages", async () => {
    const ws = await workspace();
    const own = agentCommits(ws.path, { "parent.txt": "the parent's own work\n" }, "The parent's own commit");
    const result = mergeIntoWorkspaceResponseSchema.parse(
      (await merge(ws, { branch: "sam/child-work-1", strategy: "rebase" })).body,
    );
    expect(result).toMatchObject({ merged: true, strategy: "rebase" });
    expect(gitIn(ws.path, "log", "--reverse", "--format=%an|%cn|%s|%P", `${ws.baseCommit}..HEAD`).split("\n")).toEqual([
      `Test|Test|The parent's own commit|${ws.baseCommit}`,
      `Test|SAM|sam/child-work-1: step 1|${own}`,
      `Test|SAM|sam/child-work-1: step 2|${gitIn(ws.path, "rev-parse", "HEAD~1")}`,
    ]);
    expect(gitIn(ws.path, "ls-files").split("\n").sort()).toEqual(["README.md", "a.txt", "b.txt", "parent.txt"]);
  });

  it("a conflict, with any strategy, names the paths and leaves the workspace as it was", async () => {
    for (const strategy of ["merge", "squash", "rebase"]) {
      const ws = await workspace();
      const head = agentCommits(ws.path, { "README.md": "# source\nstatus: on hold\n" }, "Hold it");
      fs.writeFileSync(path.join(ws.path, "notes.txt"), "untracked notes of the agent\n");
      const res = await merge(ws, { branch: "sam/ship-it-2", title: "Ship it", strategy });
      expect(res.status, strategy).toBe(409);
      expect((res.body as ErrorBody).error).toEqual({
        code: "merge_conflict",
        message:
          'The work of subtask "Ship it" (sam/ship-it-2) conflicts with your branch in README.md; nothing was merged',
      });
      expect(gitIn(ws.path, "rev-parse", "HEAD")).toBe(head);
      expect(gitIn(ws.path, "status", "--porcelain")).toBe("?? notes.txt");
      expect(fs.readFileSync(path.join(ws.path, "README.md"), "utf8")).toBe("# source\nstatus: on hold\n");
      for (const state of ["MERGE_HEAD", "CHERRY_PICK_HEAD", "SQUASH_MSG"]) {
        expect(fs.existsSync(path.join(ws.path, ".git", state)), `${strategy}: ${state}`).toBe(false);
      }
    }
  });

  it("uncommitted changes to tracked files are refused, named and left untouched", async () => {
    const ws = await workspace();
    fs.writeFileSync(path.join(ws.path, "README.md"), "# source\nstatus: editing\n");
    const res = await merge(ws, { branch: "sam/child-work-1" });
    expect(res.status).toBe(409);
    expect((res.body as ErrorBody).error).toEqual({
      code: "workspace_dirty",
      message: "Your workspace has uncommitted changes in README.md; commit them first, then merge",
    });
    expect(fs.readFileSync(path.join(ws.path, "README.md"), "utf8")).toBe("# source\nstatus: editing\n");
    expect(gitIn(ws.path, "rev-parse", "HEAD")).toBe(ws.baseCommit);
  });

  it("work the workspace already holds merges nothing; a missing branch, a bad strategy and an unknown workspace are refused", async () => {
    const ws = await workspace();
    const first = mergeIntoWorkspaceResponseSchema.parse((await merge(ws, { branch: "sam/child-work-1" })).body);
    const again = await merge(ws, { branch: "sam/child-work-1", strategy: "rebase" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ merged: false, commit: first.commit, strategy: "rebase" });

    const missing = await merge(ws, { branch: "sam/never-pushed-9" });
    expect(missing.status).toBe(404);
    expect((missing.body as ErrorBody).error).toEqual({
      code: "branch_not_found",
      message: "The branch sam/never-pushed-9 is not in the project repository",
    });
    const bad = await merge(ws, { branch: "sam/child-work-1", strategy: "octopus" });
    expect(bad.status).toBe(400);
    expect((bad.body as ErrorBody).error.code).toBe("invalid_input");
    const notSam = await merge(ws, { branch: "main" });
    expect(notSam.status).toBe(400);
    const unknown = await daemon.call("POST", "/workspaces/nope/merge", { branch: "sam/child-work-1", title: "x" });
    expect(unknown.status).toBe(404);
    expect(gitIn(ws.path, "rev-parse", "HEAD")).toBe(first.commit);
  });

  it("a configuration the agent planted in its repository (fsmonitor, a filter) runs confined as the agent, never as the daemon", async () => {
    const ws = await workspace();
    const outside = path.join(temp.dir, "planted-ran-outside");
    // Each planted program notes who ran it inside the workspace, and tries to write outside it.
    const planted = `id -u >> .git/planted-ran; touch '${outside}'`;
    // (From here on the test runs no git of its own in the workspace: it would run them too.)
    gitIn(ws.path, "config", "core.fsmonitor", `${planted}; true`);
    gitIn(ws.path, "config", "filter.planted.smudge", `sh -c "${planted}; cat"`);
    gitIn(ws.path, "config", "filter.planted.clean", `sh -c "${planted}; cat"`);
    fs.writeFileSync(path.join(ws.path, ".git", "info", "attributes"), "* filter=planted\n");
    handBack(ws.path);

    const res = await merge(ws, { branch: "sam/child-work-1" });
    expect(res.status).toBe(200);
    expect(fs.readFileSync(path.join(ws.path, "a.txt"), "utf8")).toBe("from the child\n");
    // The planted programs did run, and only as the agent's user, confined to its sandbox.
    const ranAs = fs
      .readFileSync(path.join(ws.path, ".git", "planted-ran"), "utf8")
      .trim()
      .split("\n");
    expect(ranAs.length).toBeGreaterThan(0);
    expect(new Set(ranAs)).toEqual(new Set([String(AGENT_UID)]));
    expect(fs.existsSync(outside)).toBe(false);
  });
});

describe("merging into a workspace on a node whose sandbox is off", () => {
  const temp = makeTempDir("sam-merge-unconfined-");
  const source = makeRepo(path.join(temp.dir, "source"), { "README.md": "# source\n" });
  const [childCommit] = pushedBranch(source, "sam/child-work-1", [{ "a.txt": "from the child\n" }]);
  let daemon: DaemonProcess;

  beforeAll(async () => {
    daemon = startNode(temp.dir, "node-unconfined", { SAM_SANDBOX: "off" });
    await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    temp.cleanup();
  });

  it("runs the same merge in the workspace itself, as the operator chose", async () => {
    const created = await daemon.call("POST", "/workspaces", {
      workspaceId: "parent-1",
      taskId: "task-parent-1",
      repo: source,
      baseBranch: "main",
      branch: "sam/parent-1",
    });
    const ws = workspaceResponseSchema.parse(created.body);
    const res = await daemon.call("POST", "/workspaces/parent-1/merge", { branch: "sam/child-work-1", title: "Child" });
    expect(res.status).toBe(200);
    expect(mergeIntoWorkspaceResponseSchema.parse(res.body)).toMatchObject({ merged: true, strategy: "merge" });
    expect(gitIn(ws.path, "rev-parse", "HEAD^2")).toBe(childCommit);
    expect(gitIn(ws.path, "log", "-1", "--format=%an|%s")).toBe(
      'SAM|Merge the work of subtask "Child" (sam/child-work-1)',
    );
  });
});
