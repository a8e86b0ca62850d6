import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { createLocalUser } from "@/lib/users";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { runSam } from "../helpers/cli";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

interface PullSummary {
  id: string;
  number: number;
  taskId: string;
  title: string;
  state: string;
  headBranch: string;
  baseBranch: string;
  url: string | null;
  additions: number;
  deletions: number;
  changedFiles: number;
}

interface PullDetail extends PullSummary {
  files: { path: string; status: string; additions: number; deletions: number }[];
  commits: { sha: string; message: string }[];
  mergeable: boolean;
  conflicts: string[];
  comments: {
    id: string;
    author: string;
    body: string;
    path: string | null;
    line: number | null;
    sentAt: string | null;
  }[];
}

interface ErrorBody {
  error: { code: string; message: string; details?: { fields?: { field: string; message: string }[] } };
}

const SUMMARY_KEYS = [
  "id",
  "number",
  "taskId",
  "title",
  "state",
  "headBranch",
  "baseBranch",
  "url",
  "additions",
  "deletions",
  "changedFiles",
];

/** An HTTP client acting through a personal token: a user other than the owner. */
function tokenApi(baseUrl: string, token: string) {
  return async <T>(method: string, route: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

describe("pull requests over the CLI and HTTP, opened by real tasks", () => {
  let app: AppServer;
  let api: ApiClient;
  let env: Record<string, string>;
  const temp = makeTempDir("sam-pulls-e2e-");
  /** A checked-out repository (its main is the work tree's branch) and a bare one. */
  const projects: Record<"work" | "bare", { id: string; repo: string }> = {
    work: { id: "", repo: "" },
    bare: { id: "", repo: "" },
  };

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    env = { SAM_DATA_DIR: app.dataDir };
    const work = makeGitRepo(path.join(temp.dir, "work"), { files: { "README.md": "# pulls\n" } });
    const bare = path.join(temp.dir, "bare.git");
    git(temp.dir, "clone", "-q", "--bare", work, bare);
    for (const [kind, repo] of [
      ["work", work],
      ["bare", bare],
    ] as const) {
      const res = await api.post<{ id: string }>("/api/projects", { repo });
      expect(res.status).toBe(201);
      projects[kind] = { id: res.body.id, repo };
    }
  });
  afterAll(async () => {
    await app?.stop();
    temp.cleanup();
  });

  async function sam<T = unknown>(...args: string[]): Promise<T> {
    const run = await runSam([...args, "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as T;
  }

  /** Runs a task whose agent writes `file` and completes; answers the task and its PR once recorded. */
  async function taskWithPullRequest(kind: "work" | "bare", file: string, content: string) {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId: projects[kind].id,
      prompt: scriptPrompt(`Write ${file}`, [
        { tool: "write_file", args: { path: file, content } },
        { tool: "complete_task", args: { summary: `Wrote ${file}` } },
      ]),
      mode: "task",
    });
    expect(created.status).toBe(201);
    const task = await waitForTask(api, created.body.id, isTerminal, 90_000);
    expect(task.failureReason).toBeNull();
    expect(task.status).toBe("completed");
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const listed = await api.get<PullSummary[]>(`/api/projects/${projects[kind].id}/pulls`);
      const pr = listed.body.find((p) => p.taskId === task.id);
      if (pr) return { task, pr };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Task ${task.id} completed without a pull request`);
  }

  /** One open PR shared by the tests of refusals; made on first use. */
  let shared: Promise<{ taskId: string; pr: PullSummary }> | undefined;
  const sharedPullRequest = () => {
    shared ??= taskWithPullRequest("work", "shared.txt", "first\nsecond\n").then(({ task, pr }) => ({
      taskId: task.id,
      pr,
    }));
    return shared;
  };

  it("a task that writes a file completes with exactly one open PR, listed by the CLI and HTTP, showing the file and commit", async () => {
    const { task, pr } = await taskWithPullRequest("work", "hello.txt", "hello\n");
    const { id: projectId, repo } = projects.work;

    const cliList = await sam<PullSummary[]>("pr", "list", "--project", projectId);
    const httpList = (await api.get<PullSummary[]>(`/api/projects/${projectId}/pulls?state=open`)).body;
    for (const listed of [cliList, httpList]) {
      expect(listed.filter((p) => p.taskId === task.id)).toHaveLength(1);
      const mine = listed.find((p) => p.taskId === task.id)!;
      expect(Object.keys(mine).sort()).toEqual([...SUMMARY_KEYS].sort());
      expect(mine).toMatchObject({
        id: pr.id,
        state: "open",
        headBranch: task.branch,
        baseBranch: "main",
        url: null,
      });
    }

    // The id's first 8 characters are enough, as the web app shows them.
    const shown = await sam<PullDetail>("pr", "show", pr.id.slice(0, 8));
    expect(shown).toMatchObject({ id: pr.id, additions: 1, deletions: 0, changedFiles: 1, mergeable: true });
    expect(shown.files).toEqual([{ path: "hello.txt", status: "added", additions: 1, deletions: 0 }]);
    expect(shown.conflicts).toEqual([]);
    expect(shown.comments).toEqual([]);
    expect(shown.commits.map((c) => c.sha)).toEqual([git(repo, "rev-parse", task.branch!)]);
    expect(shown.commits[0]!.message).toContain("Write hello.txt");
    expect((await api.get<PullDetail>(`/api/pulls/${pr.id}`)).body).toMatchObject({ id: pr.id, files: shown.files });

    const diff = await api.get<{ path: string; status: string; patch: string }[]>(`/api/pulls/${pr.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body.map((f) => [f.path, f.status])).toEqual([["hello.txt", "added"]]);
    expect(diff.body[0]!.patch).toContain("+hello");

    const link = { id: pr.id, number: pr.number, state: "open", url: null };
    expect((await sam<{ pullRequest: unknown }>("task", "show", task.id)).pullRequest).toEqual(link);
    expect((await api.get<{ pullRequest: unknown }>(`/api/tasks/${task.id}`)).body.pullRequest).toEqual(link);

    const plain = await runSam(["pr", "show", pr.id], env);
    expect(plain.stdout).toContain(`#${pr.number} Write hello.txt (${pr.id})`);
    expect(plain.stdout).toMatch(/state: +mergeable/);
    expect(plain.stdout).toMatch(/added +hello\.txt {2}\+1 -0/);
  });

  // Each strategy in turn, into each kind of repository, through the CLI for one and HTTP for the other.
  const MERGES = [
    { strategy: "merge", kind: "work", via: "cli" },
    { strategy: "merge", kind: "bare", via: "http" },
    { strategy: "squash", kind: "work", via: "http" },
    { strategy: "squash", kind: "bare", via: "cli" },
    { strategy: "rebase", kind: "work", via: "cli" },
    { strategy: "rebase", kind: "bare", via: "http" },
  ] as const;

  for (const { strategy, kind, via } of MERGES) {
    it(`a ${strategy} (${via}) puts the file on the base branch of a ${kind === "bare" ? "bare" : "checked-out clean"} repository`, async () => {
      const file = `${strategy}-${kind}.txt`;
      const { task, pr } = await taskWithPullRequest(kind, file, `${strategy}\n`);
      const { repo, id: projectId } = projects[kind];
      const before = git(repo, "rev-parse", "main");

      let result: { state: string; mergeCommit: string };
      if (via === "cli") {
        result = await sam("pr", "merge", pr.id, "--strategy", strategy);
      } else {
        const res = await api.post<{ state: string; mergeCommit: string }>(`/api/pulls/${pr.id}/merge`, { strategy });
        expect(res.status).toBe(200);
        result = res.body;
      }
      expect(Object.keys(result).sort()).toEqual(["mergeCommit", "state"]);
      expect(result.state).toBe("merged");
      expect(git(repo, "rev-parse", "main")).toBe(result.mergeCommit);
      expect(git(repo, "show", `main:${file}`)).toBe(strategy);
      expect(git(repo, "merge-base", "--is-ancestor", before, "main")).toBe("");
      const parents = git(repo, "log", "-1", "--format=%P", "main").split(" ");
      expect(parents).toHaveLength(strategy === "merge" ? 2 : 1);
      if (kind === "work") {
        expect(fs.readFileSync(path.join(repo, file), "utf8")).toBe(`${strategy}\n`);
        expect(git(repo, "status", "--porcelain")).toBe("");
      }
      // The project deletes merged branches by default.
      expect(git(repo, "branch", "--list", task.branch!)).toBe("");

      const merged = await sam<PullSummary[]>("pr", "list", "--project", projectId, "--state", "merged");
      expect(merged.map((p) => p.id)).toContain(pr.id);
      const open = (await api.get<PullSummary[]>(`/api/projects/${projectId}/pulls?state=open`)).body;
      expect(open.map((p) => p.id)).not.toContain(pr.id);
      expect((await sam<{ pullRequest: unknown }>("task", "show", task.id)).pullRequest).toEqual({
        id: pr.id,
        number: pr.number,
        state: "merged",
        url: null,
      });
    });
  }

  it("a checked-out base branch with an uncommitted change is refused with a clear message and left untouched", async () => {
    const { pr, taskId } = await sharedPullRequest();
    const { repo } = projects.work;
    const readme = path.join(repo, "README.md");
    fs.writeFileSync(readme, "# my unsaved edit\n");
    const head = git(repo, "rev-parse", "HEAD");
    try {
      const cli = await runSam(["pr", "merge", pr.id.slice(0, 8), "--strategy", "squash"], env);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/^sam: .*main is checked out in .* with uncommitted changes \(README\.md\)/);
      const http = await api.post<ErrorBody>(`/api/pulls/${pr.id}/merge`, {});
      expect(http.status).toBe(409);
      expect(http.body.error.message).toMatch(/main is checked out in .* with uncommitted changes \(README\.md\)/);

      expect(fs.readFileSync(readme, "utf8")).toBe("# my unsaved edit\n");
      expect(git(repo, "rev-parse", "HEAD")).toBe(head);
      expect(git(repo, "status", "--porcelain")).toBe("M README.md");
      expect(fs.existsSync(path.join(repo, "shared.txt"))).toBe(false);
      expect(await sam<PullDetail>("pr", "show", pr.id)).toMatchObject({ state: "open", mergeable: true });
      expect((await sam<{ pullRequest: { state: string } }>("task", "show", taskId)).pullRequest.state).toBe("open");
    } finally {
      git(repo, "checkout", "-q", "--", "README.md");
    }
  });

  it("comments: a line comment and a whole-PR comment, through the CLI and HTTP, are listed in order", async () => {
    const { pr } = await sharedPullRequest();
    const added = await sam<{ id: string; path: string; line: number }>(
      "pr",
      "comment",
      pr.id,
      "--body",
      "Say why",
      "--path",
      "shared.txt",
      "--line",
      "2",
    );
    expect(added).toMatchObject({ path: "shared.txt", line: 2, body: "Say why" });
    const whole = await api.post<{ id: string; author: string }>(`/api/pulls/${pr.id}/comments`, { body: "Nice" });
    expect(whole.status).toBe(201);
    expect(whole.body).toMatchObject({ author: "Owner", body: "Nice", path: null, line: null, sentAt: null });

    const listed = await api.get<{ id: string; body: string }[]>(`/api/pulls/${pr.id}/comments`);
    expect(listed.body.map((c) => [c.id, c.body])).toEqual([
      [added.id, "Say why"],
      [whole.body.id, "Nice"],
    ]);
    const shown = await sam<PullDetail>("pr", "show", pr.id);
    expect(shown.comments.map((c) => [c.body, c.path, c.line])).toEqual([
      ["Say why", "shared.txt", 2],
      ["Nice", null, null],
    ]);
    const plain = await runSam(["pr", "show", pr.id], env);
    expect(plain.stdout).toContain("Owner on shared.txt:2: Say why");
  });

  it("sam pr request-changes sends the unsent comments to a revision task that sam task show links to the PR; its commit shows in the PR", async () => {
    const { pr } = await sharedPullRequest();
    const { repo, id: projectId } = projects.work;
    const body = scriptPrompt("Also say why in the file.", [
      { tool: "write_file", args: { path: "shared.txt", content: "first\nsecond, because\n" } },
      { tool: "complete_task", args: { summary: "Said why" } },
    ]);
    const sent = await sam<{ via: string; taskId: string; comments: number }>(
      "pr",
      "request-changes",
      pr.id.slice(0, 8),
      "--body",
      body,
    );
    // The two comments made before, and the body.
    expect(sent).toMatchObject({ via: "revision", comments: 3 });
    const link = { id: pr.id, number: pr.number, state: "open", url: null };
    expect((await sam<{ pullRequest: unknown }>("task", "show", sent.taskId)).pullRequest).toEqual(link);
    expect((await api.get<{ pullRequest: unknown }>(`/api/tasks/${sent.taskId}`)).body.pullRequest).toEqual(link);

    const revision = await waitForTask(api, sent.taskId, isTerminal, 90_000);
    expect(revision.failureReason).toBeNull();
    expect(revision.status).toBe("completed");
    const shown = await sam<PullDetail>("pr", "show", pr.id);
    expect(shown.commits).toHaveLength(2);
    expect(shown.commits.at(-1)!.sha).toBe(git(repo, "rev-parse", pr.headBranch));
    expect(shown.files).toEqual([{ path: "shared.txt", status: "added", additions: 2, deletions: 0 }]);
    expect(shown.comments.every((c) => c.sentAt !== null)).toBe(true);
    // A revision opens no pull request of its own.
    const listed = await sam<PullSummary[]>("pr", "list", "--project", projectId, "--state", "open");
    expect(listed.map((p) => p.taskId)).not.toContain(sent.taskId);

    // Nothing is left to send.
    const again = await api.post<ErrorBody>(`/api/pulls/${pr.id}/request-changes`, {});
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/no comments that were not sent yet/);
  });

  it("bad input gets 400 over HTTP and exit status 2 on the command line, naming the field or flag", async () => {
    const { pr } = await sharedPullRequest();
    const http = async (route: string, body: unknown, field: string) => {
      const res = await api.post<ErrorBody>(route, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_input");
      expect(res.body.error.details?.fields?.map((f) => f.field)).toEqual([field]);
      expect(res.body.error.message).toContain(`${field}:`);
    };
    await http(`/api/pulls/${pr.id}/merge`, { strategy: "fast-forward" }, "strategy");
    await http(`/api/pulls/${pr.id}/comments`, { body: "x", line: 2 }, "line");
    await http(`/api/pulls/${pr.id}/comments`, { body: "x", path: "shared.txt", line: 0 }, "line");
    await http(`/api/pulls/${pr.id}/comments`, { body: "" }, "body");
    await http(`/api/pulls/${pr.id}/comments`, { body: "x", path: "shared.txt", line: 3 }, "line");
    await http(`/api/pulls/${pr.id}/comments`, { body: "x", path: "nowhere.txt", line: 1 }, "path");
    await http(`/api/pulls/${pr.id}/request-changes`, { body: "" }, "body");
    await http(`/api/pulls/${pr.id}/resolve`, { note: "  " }, "note");
    const list = await api.get<ErrorBody>(`/api/projects/${projects.work.id}/pulls?state=draft`);
    expect(list.status).toBe(400);
    expect(list.body.error.details?.fields?.map((f) => f.field)).toEqual(["state"]);

    const cli = async (args: string[], message: RegExp) => {
      const run = await runSam(args, env);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
    };
    await cli(["pr", "merge", pr.id, "--strategy", "fast-forward"], /--strategy must be one of merge, squash, rebase/);
    await cli(
      ["pr", "comment", pr.id, "--body", "x", "--line", "2"],
      /--line: a line comment needs both path and line/,
    );
    await cli(
      ["pr", "comment", pr.id, "--body", "x", "--path", "shared.txt", "--line", "0"],
      /--line must be 1 or more/,
    );
    await cli(
      ["pr", "comment", pr.id, "--body", "x", "--path", "shared.txt", "--line", "two"],
      /--line must be a number/,
    );
    await cli(["pr", "comment", pr.id, "--body", ""], /--body must not be empty/);
    await cli(["pr", "comment", pr.id], /--body is required/);
    await cli(["pr", "request-changes", pr.id, "--body", ""], /--body must not be empty/);
    await cli(["pr", "resolve", pr.id, "--note", ""], /--note must not be empty/);
    await cli(
      ["pr", "list", "--project", projects.work.id, "--state", "draft"],
      /--state must be one of open, merged, closed/,
    );
    await cli(["pr", "list"], /missing --project <id>/);
    await cli(["pr", "show", "1234"], /the pull request id or a unique prefix of at least 8 characters/);

    // Nothing of it was stored, and the PR is still open.
    expect(await sam<PullDetail>("pr", "show", pr.id)).toMatchObject({ state: "open" });
  });

  it("a user who is not a member of the project gets 404 on every route and finds nothing on the command line", async () => {
    const { pr } = await sharedPullRequest();
    const db = openAppDb(app);
    let token: string;
    try {
      const stranger = await createLocalUser(db, { email: "stranger@example.com" });
      ({ token } = await mintPersonalToken(db, stranger.id, { name: "stranger" }));
    } finally {
      db.$client.close();
    }
    const request = tokenApi(app.baseUrl, token);
    const routes: [string, string, unknown?][] = [
      ["GET", `/api/projects/${projects.work.id}/pulls`],
      ["GET", `/api/pulls/${pr.id}`],
      ["GET", `/api/pulls/${pr.id}/diff`],
      ["POST", `/api/pulls/${pr.id}/merge`, { strategy: "merge" }],
      ["POST", `/api/pulls/${pr.id}/close`],
      ["GET", `/api/pulls/${pr.id}/comments`],
      ["POST", `/api/pulls/${pr.id}/comments`, { body: "Let me in" }],
      ["POST", `/api/pulls/${pr.id}/request-changes`, { body: "Let me in" }],
      ["POST", `/api/pulls/${pr.id}/resolve`, {}],
    ];
    for (const [method, route, body] of routes) {
      const res = await request<ErrorBody>(method, route, body);
      expect(res.status, `${method} ${route}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    const shown = await runSam(["pr", "show", pr.id.slice(0, 8), "--user", "stranger@example.com"], env);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain(`No pull request ${pr.id.slice(0, 8)}`);
    const listed = await runSam(["pr", "list", "--project", projects.work.id, "--user", "stranger@example.com"], env);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(`No project ${projects.work.id}`);

    const after = await sam<PullDetail>("pr", "show", pr.id);
    expect(after).toMatchObject({ state: "open" });
    expect(after.comments.map((c) => c.body)).not.toContain("Let me in");
  });

  it("a PR that conflicts after another merges names the path and refuses to merge; sam pr resolve gets a revision task that makes it mergeable", async () => {
    const [first, second] = await Promise.all([
      taskWithPullRequest("bare", "clash.txt", "from the first\n"),
      taskWithPullRequest("bare", "clash.txt", "from the second\n"),
    ]);
    const { repo } = projects.bare;
    expect((await api.post(`/api/pulls/${first.pr.id}/merge`, { strategy: "merge" })).status).toBe(200);
    expect(await sam<PullDetail>("pr", "show", second.pr.id)).toMatchObject({
      mergeable: false,
      conflicts: ["clash.txt"],
    });
    const refused = await runSam(["pr", "merge", second.pr.id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot be merged: .* conflicts with main in clash\.txt/);
    const plain = await runSam(["pr", "show", second.pr.id], env);
    expect(plain.stdout).toMatch(/state: +not mergeable: conflicts in clash\.txt/);

    // The note's script is the revision agent's: it keeps both lines.
    const note = scriptPrompt("Keep both lines.", [
      { tool: "write_file", args: { path: "clash.txt", content: "from the first\nfrom the second\n" } },
      { tool: "complete_task", args: { summary: "Kept both" } },
    ]);
    const { taskId } = await sam<{ taskId: string }>("pr", "resolve", second.pr.id, "--note", note);
    expect((await sam<{ pullRequest: { id: string } }>("task", "show", taskId)).pullRequest.id).toBe(second.pr.id);
    const revision = await waitForTask(api, taskId, isTerminal, 90_000);
    expect(revision.failureReason).toBeNull();
    expect(revision.status).toBe("completed");

    expect(await sam<PullDetail>("pr", "show", second.pr.id)).toMatchObject({ mergeable: true, conflicts: [] });
    const merged = await sam<{ mergeCommit: string }>("pr", "merge", second.pr.id, "--strategy", "squash");
    expect(git(repo, "rev-parse", "main")).toBe(merged.mergeCommit);
    expect(git(repo, "show", "main:clash.txt")).toBe("from the first\nfrom the second");
    const noConflicts = await api.post<ErrorBody>(`/api/pulls/${second.pr.id}/resolve`, {});
    expect(noConflicts.status).toBe(409);
  });

  it("sam pr close closes an open PR without merging it and deletes its branch", async () => {
    const { pr, taskId } = await sharedPullRequest();
    const { repo } = projects.work;
    const main = git(repo, "rev-parse", "main");
    expect(await sam("pr", "close", pr.id)).toEqual({ state: "closed" });
    expect(git(repo, "rev-parse", "main")).toBe(main);
    expect(git(repo, "branch", "--list", pr.headBranch)).toBe("");
    const closed = (await api.get<PullDetail>(`/api/pulls/${pr.id}`)).body;
    expect(closed).toMatchObject({ state: "closed", mergeable: false });
    expect(closed.files.map((f) => f.path)).toEqual(["shared.txt"]);
    expect((await sam<{ pullRequest: { state: string } }>("task", "show", taskId)).pullRequest.state).toBe("closed");
    const again = await runSam(["pr", "merge", pr.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/closed/);
  });
});
