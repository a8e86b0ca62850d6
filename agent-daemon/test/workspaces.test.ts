import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceResponseSchema } from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { type FakeWeb, startFakeWeb } from "./fake-web.ts";
import { commitFiles, gitIn, makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

interface ErrorBody {
  error: { code: string; message: string };
}

describe("workspaces", () => {
  const temp = makeTempDir("sam-workspaces-");
  const source = makeRepo(path.join(temp.dir, "source"), { "README.md": "# source\n", "src/app.ts": "export {};\n" });
  const dataDir = path.join(temp.dir, "node");
  let daemon: DaemonProcess;

  beforeAll(async () => {
    daemon = spawnDaemon({
      SAM_NODE_ID: "node-ws",
      SAM_NODE_TOKEN: newNodeToken(),
      SAM_DAEMON_DATA_DIR: dataDir,
      SAM_NODE_CAPACITY: "8",
    });
    await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    temp.cleanup();
  });

  const request = (n: number, overrides: Record<string, unknown> = {}) => ({
    workspaceId: `ws-${n}`,
    taskId: `task-${n}`,
    repo: source,
    baseBranch: "main",
    branch: `sam/add-feature-${n}`,
    ...overrides,
  });

  it("creating a workspace clones the repo onto a new sam/ branch from the base branch, with origin set to the project repo", async () => {
    const res = await daemon.call("POST", "/workspaces", request(1));
    expect(res.status).toBe(201);
    const ws = workspaceResponseSchema.parse(res.body);
    expect(ws).toMatchObject({
      workspaceId: "ws-1",
      branch: "sam/add-feature-1",
      baseCommit: gitIn(source, "rev-parse", "main"),
    });
    expect(ws.path).toBe(path.join(dataDir, "workspaces", "ws-1"));
    expect(gitIn(ws.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe("sam/add-feature-1");
    expect(gitIn(ws.path, "rev-parse", "HEAD")).toBe(ws.baseCommit);
    expect(gitIn(ws.path, "remote", "get-url", "origin")).toBe(source);
    expect(gitIn(ws.path, "status", "--porcelain")).toBe("");
    expect(fs.readFileSync(path.join(ws.path, "src/app.ts"), "utf8")).toBe("export {};\n");
  });

  it("a second workspace of the same repo reuses the one mirror, fetched so it sees commits made since", async () => {
    const newer = commitFiles(source, { "NEW.md": "added after the first workspace\n" }, "second commit");
    const res = await daemon.call("POST", "/workspaces", request(2));
    expect(res.status).toBe(201);
    const ws = workspaceResponseSchema.parse(res.body);
    expect(ws.baseCommit).toBe(newer);
    expect(fs.existsSync(path.join(ws.path, "NEW.md"))).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, "mirrors"))).toHaveLength(1);
  });

  it("workspaces created at once from one repo share the mirror safely and all start from the same commit", async () => {
    const head = commitFiles(source, { "CONCURRENT.md": "x\n" }, "third commit");
    const results = await Promise.all([3, 4, 5, 6].map((n) => daemon.call("POST", "/workspaces", request(n))));
    for (const res of results) {
      expect(res.status).toBe(201);
      const ws = workspaceResponseSchema.parse(res.body);
      expect(ws.baseCommit).toBe(head);
      gitIn(ws.path, "fsck", "--no-progress");
    }
    expect(fs.readdirSync(path.join(dataDir, "mirrors"))).toHaveLength(1);
    for (const n of [3, 4, 5, 6]) expect((await daemon.call("DELETE", `/workspaces/ws-${n}`)).status).toBe(204);
  });

  it("repeating a create answers with the same workspace instead of a second one", async () => {
    const again = await daemon.call("POST", "/workspaces", request(1));
    expect(again.status).toBe(200);
    expect(workspaceResponseSchema.parse(again.body).workspaceId).toBe("ws-1");
    const clash = await daemon.call("POST", "/workspaces", request(1, { taskId: "another-task" }));
    expect(clash.status).toBe(409);
    expect((clash.body as ErrorBody).error.code).toBe("workspace_exists");
  });

  it("refuses an unsupported scheme, a relative path and a missing repository with clear errors", async () => {
    const ftp = await daemon.call("POST", "/workspaces", request(10, { repo: "ftp://x/y" }));
    expect(ftp.status).toBe(400);
    expect((ftp.body as ErrorBody).error).toMatchObject({ code: "unsupported_repo" });
    expect((ftp.body as ErrorBody).error.message).toMatch(/^repo: unsupported scheme ftp:\/\//);

    const helper = await daemon.call("POST", "/workspaces", request(11, { repo: "ext::sh -c touch% /tmp/pwned" }));
    expect(helper.status).toBe(400);
    const relative = await daemon.call("POST", "/workspaces", request(12, { repo: "some/relative/path" }));
    expect(relative.status).toBe(400);

    const missing = await daemon.call("POST", "/workspaces", request(13, { repo: path.join(temp.dir, "nope") }));
    expect(missing.status).toBe(422);
    expect((missing.body as ErrorBody).error.code).toBe("repo_unreachable");
    expect((missing.body as ErrorBody).error.message).toContain(path.join(temp.dir, "nope"));

    const noBase = await daemon.call("POST", "/workspaces", request(14, { baseBranch: "develop" }));
    expect(noBase.status).toBe(422);
    expect((noBase.body as ErrorBody).error).toMatchObject({ code: "base_branch_not_found" });
    expect(fs.existsSync(path.join(dataDir, "workspaces", "ws-14"))).toBe(false);
  });

  it("never reports credentials embedded in a repository URL", async () => {
    const res = await daemon.call(
      "POST",
      "/workspaces",
      request(15, { repo: "http://agent:s3cret-token@127.0.0.1:9/project.git" }),
    );
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).not.toContain("s3cret-token");
    expect(daemon.stderr()).not.toContain("s3cret-token");
  });

  it("DELETE removes the workspace directory, and an unknown workspace is 404", async () => {
    const res = await daemon.call("DELETE", "/workspaces/ws-2");
    expect(res.status).toBe(204);
    expect(fs.existsSync(path.join(dataDir, "workspaces", "ws-2"))).toBe(false);
    expect((await daemon.call("DELETE", "/workspaces/ws-2")).status).toBe(404);
  });
});

describe("workspace capacity", () => {
  const temp = makeTempDir("sam-capacity-");
  const source = makeRepo(path.join(temp.dir, "source"));
  let daemon: DaemonProcess;

  beforeAll(async () => {
    daemon = spawnDaemon({
      SAM_NODE_ID: "node-cap",
      SAM_NODE_TOKEN: newNodeToken(),
      SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node"),
      SAM_NODE_CAPACITY: "2",
    });
    await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    temp.cleanup();
  });

  const create = (n: number) =>
    daemon.call("POST", "/workspaces", {
      workspaceId: `cap-${n}`,
      taskId: `task-${n}`,
      repo: source,
      baseBranch: "main",
      branch: `sam/cap-${n}`,
    });

  it("with capacity 2, three creations at once give two workspaces and one 409 capacity_full; a removal frees a slot", async () => {
    const results = await Promise.all([1, 2, 3].map(create));
    const statuses = results.map((res) => res.status).sort();
    expect(statuses).toEqual([201, 201, 409]);
    const refused = results.find((res) => res.status === 409);
    expect((refused?.body as ErrorBody | undefined)?.error.code).toBe("capacity_full");
    const health = await daemon.call("GET", "/health");
    expect(health.body).toMatchObject({ workspaces: 2, capacity: 2 });

    const created = results.findIndex((res) => res.status === 201) + 1;
    expect((await daemon.call("DELETE", `/workspaces/cap-${created}`)).status).toBe(204);
    expect((await create(4)).status).toBe(201);
  });
});

describe("workspaces of tasks with dependencies", () => {
  const temp = makeTempDir("sam-dependencies-");
  const source = makeRepo(path.join(temp.dir, "source"), { "README.md": "# source\nstatus: draft\n" });
  const dataDir = path.join(temp.dir, "node");
  let daemon: DaemonProcess;

  /** A dependency's pushed branch: `files` committed on a branch made from main. */
  const dependencyBranch = (branch: string, files: Record<string, string>): string => {
    gitIn(source, "checkout", "--quiet", "-b", branch, "main");
    const commit = commitFiles(source, files, `work on ${branch}`);
    gitIn(source, "checkout", "--quiet", "main");
    return commit;
  };
  const aCommit = dependencyBranch("sam/write-a-1", { "a.txt": "from A\n" });
  const bCommit = dependencyBranch("sam/write-b-2", { "b.txt": "from B\n" });
  dependencyBranch("sam/ship-it-3", { "README.md": "# source\nstatus: shipped\n" });
  dependencyBranch("sam/hold-it-4", { "README.md": "# source\nstatus: on hold\n" });

  const A = { taskId: "task-a", title: "Write a.txt", branch: "sam/write-a-1" };
  const B = { taskId: "task-b", title: "Write b.txt", branch: "sam/write-b-2" };
  const SHIP = { taskId: "task-ship", title: "Ship it", branch: "sam/ship-it-3" };
  const HOLD = { taskId: "task-hold", title: "Hold it", branch: "sam/hold-it-4" };

  beforeAll(async () => {
    daemon = spawnDaemon({
      SAM_NODE_ID: "node-deps",
      SAM_NODE_TOKEN: newNodeToken(),
      SAM_DAEMON_DATA_DIR: dataDir,
      SAM_NODE_CAPACITY: "4",
    });
    await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    temp.cleanup();
  });

  const request = (n: number, mergeBranches: (typeof A)[]) => ({
    workspaceId: `dep-${n}`,
    taskId: `dependent-${n}`,
    repo: source,
    baseBranch: "main",
    branch: `sam/dependent-${n}`,
    mergeBranches,
  });

  it("a workspace starts with every dependency branch merged in", async () => {
    const res = await daemon.call("POST", "/workspaces", request(1, [A, B]));
    expect(res.status).toBe(201);
    const ws = workspaceResponseSchema.parse(res.body);
    // The base commit stays the base branch's: the dependencies' work sits on top of it.
    expect(ws.baseCommit).toBe(gitIn(source, "rev-parse", "main"));
    expect(gitIn(ws.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe("sam/dependent-1");
    expect(fs.readFileSync(path.join(ws.path, "a.txt"), "utf8")).toBe("from A\n");
    expect(fs.readFileSync(path.join(ws.path, "b.txt"), "utf8")).toBe("from B\n");
    expect(gitIn(ws.path, "status", "--porcelain")).toBe("");
    for (const commit of [aCommit, bCommit]) gitIn(ws.path, "merge-base", "--is-ancestor", commit, "HEAD");
    expect(gitIn(ws.path, "log", "--merges", "--format=%an <%ae>|%s", "--reverse").split("\n")).toEqual([
      'SAM <sam@sam.local>|Merge the work of task "Write a.txt" (sam/write-a-1)',
      'SAM <sam@sam.local>|Merge the work of task "Write b.txt" (sam/write-b-2)',
    ]);
  });

  it("a conflicting dependency fails the workspace naming the task and the path, and leaves nothing behind", async () => {
    const res = await daemon.call("POST", "/workspaces", request(2, [A, SHIP, HOLD]));
    expect(res.status).toBe(409);
    const { error } = res.body as ErrorBody;
    expect(error.code).toBe("merge_conflict");
    expect(error.message).toBe('The work of task "Hold it" (sam/hold-it-4) conflicts with task "Ship it" in README.md');
    expect(fs.existsSync(path.join(dataDir, "workspaces", "dep-2"))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, "sandbox", "dep-2"))).toBe(false);
    expect((await daemon.call("GET", "/health")).body).toMatchObject({ workspaces: 1 });
    // The refused id is free again: nothing of the failed attempt is remembered.
    const retry = await daemon.call("POST", "/workspaces", request(2, [A, SHIP]));
    expect(retry.status).toBe(201);
    expect(fs.readFileSync(path.join(workspaceResponseSchema.parse(retry.body).path, "README.md"), "utf8")).toBe(
      "# source\nstatus: shipped\n",
    );
  });

  it("a dependency without a branch is skipped", async () => {
    const unchanged = { taskId: "task-nothing", title: "Change nothing", branch: "sam/change-nothing-5" };
    const res = await daemon.call("POST", "/workspaces", request(3, [unchanged, A]));
    expect(res.status).toBe(201);
    const ws = workspaceResponseSchema.parse(res.body);
    expect(fs.readFileSync(path.join(ws.path, "a.txt"), "utf8")).toBe("from A\n");
    expect(gitIn(ws.path, "log", "--merges", "--format=%s").split("\n")).toEqual([
      'Merge the work of task "Write a.txt" (sam/write-a-1)',
    ]);
  });
});

describe("a merge that leaves its conflicts for the task's agent", () => {
  const temp = makeTempDir("sam-leave-conflicts-");
  const source = makeRepo(path.join(temp.dir, "source"), { "README.md": "# source\nstatus: draft\n" });
  const dataDir = path.join(temp.dir, "node");
  const token = newNodeToken();
  let daemon: DaemonProcess;
  let web: FakeWeb;

  const branchFromMain = (branch: string, files: Record<string, string>): string => {
    gitIn(source, "checkout", "--quiet", "-b", branch, "main");
    const commit = commitFiles(source, files, `work on ${branch}`);
    gitIn(source, "checkout", "--quiet", "main");
    return commit;
  };
  // A pull request's branch, and its base branch moved on meanwhile: the same line changed in both.
  const prHead = branchFromMain("sam/hold-it-1", { "README.md": "# source\nstatus: on hold\n" });
  branchFromMain("sam/hold-it-2", { "README.md": "# source\nstatus: held\n" });
  const newBase = commitFiles(source, { "README.md": "# source\nstatus: shipped\n", "NEWS.md": "news\n" }, "ship");

  beforeAll(async () => {
    web = await startFakeWeb(token);
    daemon = spawnDaemon({
      SAM_NODE_ID: "node-leave-conflicts",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: dataDir,
      SAM_WEB_URL: web.url,
    });
    await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    await web.close();
    temp.cleanup();
  });

  const request = (n: number, mergeBranches: unknown[], branch = "sam/hold-it-1") => ({
    workspaceId: `resolve-${n}`,
    taskId: `revision-${n}`,
    repo: source,
    baseBranch: branch,
    branch,
    mergeBranches,
  });

  it("the workspace starts mid-merge with the conflict in the file; the agent resolves it and the save records the merge commit", async () => {
    const res = await daemon.call(
      "POST",
      "/workspaces",
      request(1, [{ taskId: "base", title: "main", branch: "main", leaveConflicts: true }]),
    );
    expect(res.status).toBe(201);
    const ws = workspaceResponseSchema.parse(res.body);
    expect(ws.baseCommit).toBe(prHead);
    expect(gitIn(ws.path, "rev-parse", "MERGE_HEAD")).toBe(newBase);
    expect(gitIn(ws.path, "diff", "--name-only", "--diff-filter=U")).toBe("README.md");
    expect(fs.readFileSync(path.join(ws.path, "README.md"), "utf8")).toMatch(
      /^# source\n<<<<<<< HEAD\nstatus: on hold\n=======\nstatus: shipped\n>>>>>>> [0-9a-f]+\n$/,
    );
    // What merged cleanly is there already.
    expect(fs.readFileSync(path.join(ws.path, "NEWS.md"), "utf8")).toBe("news\n");

    const ids = { sessionId: "session-resolve-1", taskId: "revision-1", workspaceId: ws.workspaceId };
    const started = await daemon.call("POST", "/sessions", {
      ...ids,
      mode: "task",
      harness: "builtin",
      model: "scripted",
      title: "Resolve the conflict with main",
      prompt: `\`\`\`sam-script\n${JSON.stringify([
        { tool: "write_file", args: { path: "README.md", content: "# source\nstatus: shipped, then on hold\n" } },
        { say: "Resolved." },
      ])}\n\`\`\``,
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "k".repeat(40),
    });
    expect(started.status).toBe(201);
    const finished = await web.waitFor(
      (event) => event.sessionId === ids.sessionId && event.event.type === "session_finished",
      60_000,
    );
    expect(finished.event).toMatchObject({ outcome: "completed", branch: "sam/hold-it-1" });
    const saved = gitIn(source, "rev-parse", "sam/hold-it-1");
    expect(gitIn(source, "log", "-1", "--format=%P|%s", saved)).toBe(
      `${prHead} ${newBase}|Resolve the conflict with main`,
    );
    expect(gitIn(source, "show", `${saved}:README.md`)).toBe("# source\nstatus: shipped, then on hold");
    expect(gitIn(source, "show", `${saved}:NEWS.md`)).toBe("news");
  });

  it("without leaveConflicts the same merge refuses the workspace; only the last branch may leave its conflicts", async () => {
    const refused = await daemon.call(
      "POST",
      "/workspaces",
      request(2, [{ taskId: "base", title: "main", branch: "main" }], "sam/hold-it-2"),
    );
    expect(refused.status).toBe(409);
    expect((refused.body as ErrorBody).error.code).toBe("merge_conflict");
    const early = await daemon.call(
      "POST",
      "/workspaces",
      request(3, [
        { taskId: "base", title: "main", branch: "main", leaveConflicts: true },
        { taskId: "other", title: "Other", branch: "sam/hold-it-1" },
      ]),
    );
    expect(early.status).toBe(400);
    expect((early.body as ErrorBody).error.message).toBe(
      "mergeBranches: only the last branch may leave its conflicts (no merge can follow one in progress)",
    );
    const badName = await daemon.call(
      "POST",
      "/workspaces",
      request(4, [{ taskId: "base", title: "main", branch: "main..x", leaveConflicts: true }]),
    );
    expect(badName.status).toBe(400);
    expect((badName.body as ErrorBody).error.message).toBe(
      'mergeBranches.0.branch: "main..x" is not a valid branch name',
    );
  });
});
