import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Db } from "@/db/client";
import { pullRequestComments, pullRequests, tasks } from "@/db/schema";
import { SamError } from "@/lib/errors";
import { applySessionLifecycle } from "@/lib/events/session-lifecycle";
import { createProject, updateProjectSettings } from "@/lib/projects/projects";
import { closePullRequest } from "@/lib/pulls/close";
import type { PullRequestRow } from "@/lib/pulls/figures";
import { openOnGitHub } from "@/lib/pulls/github/pulls";
import { syncGitHubPullRequests } from "@/lib/pulls/github/sync";
import { mergePullRequest } from "@/lib/pulls/merge";
import { ensurePullRequest } from "@/lib/pulls/open";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { setSecret } from "@/lib/secrets/store";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { type GitHubPullsFixture, startGitHubPullsFixture } from "../helpers/github-pulls-fixture";
import { makeTempDir } from "../helpers/temp-dir";

// SAM's secret key and data dir (its pull request cache) for this file; sync without waiting.
const tmp = vi.hoisted(() => {
  const dir = `${process.env.TMPDIR ?? "/tmp"}/sam-github-int-${process.pid}-${Date.now()}`;
  process.env.SAM_DATA_DIR = dir;
  process.env.SAM_SECRET_KEY = Array.from({ length: 64 }, (_, i) => "0123456789abcdef"[(i * 7) % 16]).join("");
  process.env.SAM_GITHUB_SYNC_MS = "100";
  return dir;
});

const runGit = promisify(execFile);
const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: "0",
  GIT_AUTHOR_NAME: "Agent",
  GIT_AUTHOR_EMAIL: "agent@sam.invalid",
  GIT_COMMITTER_NAME: "Agent",
  GIT_COMMITTER_EMAIL: "agent@sam.invalid",
};
// The stand-in serves git in this process: git must run without blocking it.
const git = async (cwd: string, ...args: string[]) =>
  (await runGit("git", args, { cwd, env: gitEnv, encoding: "utf8" })).stdout.trim();

/**
 * SAM's pull requests on GitHub, against the stand-in GitHub (its REST API checked against GitHub's
 * published description, and its repository served by `git http-backend`). The task branches are
 * pushed here over HTTP as a daemon's save would; test/e2e/github-pulls.test.ts runs the whole app.
 */
describe("pull requests on GitHub", () => {
  let db: Db;
  let cleanup: () => void;
  let github: GitHubPullsFixture;
  let ownerId: string;
  const scratch = makeTempDir("sam-github-work-");
  let seq = 0;

  beforeAll(async () => {
    fs.mkdirSync(tmp, { recursive: true });
    ({ db, cleanup } = await makeTestDb());
    ownerId = (await ensureInstanceOwner(db)).id;
    github = await startGitHubPullsFixture();
  });
  afterAll(async () => {
    await github?.stop();
    cleanup();
    scratch.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A project on a new repository of the stand-in, with a GITHUB_TOKEN secret of `access`. */
  async function project(access: "read" | "write" = "write") {
    const fullName = `octo/repo-${++seq}`;
    const url = await github.createRepository(fullName, { "app.txt": "one\ntwo\nthree\n" });
    const created = await createProject(db, ownerId, { repo: url });
    await updateProjectSettings(db, ownerId, created.id, { githubUrl: github.url });
    const token = github.grantToken([fullName], access);
    await setGitHubToken(created.id, token);
    return { id: created.id, url, fullName, token };
  }

  async function setGitHubToken(projectId: string, value: string) {
    await setSecret(db, instanceSecretKey(), ownerId, projectId, { name: "GITHUB_TOKEN", kind: "git_token", value });
  }

  /** A task-mode task that completed having pushed `files` to its branch over HTTP, and its PR. */
  async function completedTask(p: { id: string; url: string }, files: Record<string, string>, title = "Change app") {
    const task = await createTask(db, ownerId, { projectId: p.id, prompt: title, mode: "task", title });
    const branch = `sam/task-${task.id.slice(0, 8)}`;
    const work = path.join(scratch.dir, `work-${++seq}`);
    await git(scratch.dir, "clone", "-q", p.url, work);
    await git(work, "checkout", "-q", "-b", branch);
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(work, name), content);
    await git(work, "add", "-A");
    await git(work, "commit", "-q", "-m", title);
    await git(work, "push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    await transitionTask(db, {
      taskId: task.id,
      from: ["queued"],
      to: "running",
      actor: { kind: "system" },
      set: { baseBranch: "main" },
    });
    await db.update(tasks).set({ summary: "Changed the app" }).where(eq(tasks.id, task.id));
    await applySessionLifecycle(db, task.id, { type: "session_finished", outcome: "completed", branch });
    const pr = await ensurePullRequest(db, task.id);
    return { task, branch, pr: await reload(pr!) };
  }

  const reload = async (pr: PullRequestRow) =>
    (await db.query.pullRequests.findFirst({ where: eq(pullRequests.id, pr.id) })) as PullRequestRow;

  /** A sync as the scheduler's next pass would run it, the throttle having lapsed. */
  async function syncNow(pr: PullRequestRow) {
    await db.run(sql`UPDATE pull_requests SET github_synced_at = NULL WHERE id = ${pr.id}`);
    await syncGitHubPullRequests(db, { pullRequestId: pr.id });
    return reload(pr);
  }

  it("opens the PR on GitHub with its title, description, head and base, storing GitHub's URL and number", async () => {
    const p = await project();
    const { pr, branch } = await completedTask(p, { "new.txt": "hello\n" });
    expect(pr).toMatchObject({
      number: 1,
      state: "open",
      githubNumber: 101,
      url: `${github.url}/${p.fullName}/pull/101`,
      githubError: null,
    });
    expect(pr.githubSyncedAt).not.toBeNull();
    expect(github.pulls(p.fullName)).toMatchObject([
      { number: 101, title: "Change app", head: branch, base: "main", state: "open" },
    ]);
    expect(github.pull(p.fullName, 101)?.body).toContain("Changed the app");
    // Synced again and again, it is not opened twice.
    await syncNow(pr);
    await syncNow(pr);
    expect(github.pulls(p.fullName)).toHaveLength(1);
    expect(github.violations).toEqual([]);
  });

  it("imports comments made on GitHub once each: line comments with their path and line, and conversation", async () => {
    const p = await project();
    const { pr } = await completedTask(p, { "new.txt": "hello\nworld\n" });
    github.commentOnGitHub(p.fullName, 101, { login: "mona", body: "Why world?", path: "new.txt", line: 2 });
    github.commentOnGitHub(p.fullName, 101, { login: "hubot", body: "Looks good overall" });
    await syncNow(pr);
    await syncNow(pr);
    const comments = await db.query.pullRequestComments.findMany({
      where: eq(pullRequestComments.pullRequestId, pr.id),
      orderBy: pullRequestComments.createdAt,
    });
    expect(comments.map(({ authorName, body, path, line }) => ({ authorName, body, path, line }))).toEqual([
      { authorName: "mona", body: "Why world?", path: "new.txt", line: 2 },
      { authorName: "hubot", body: "Looks good overall", path: null, line: null },
    ]);
    expect(comments.every((c) => c.githubId)).toBe(true);
    expect(github.violations).toEqual([]);
  });

  it("takes in a merge done on GitHub: merged with GitHub's commit, and the branch deleted", async () => {
    const p = await project();
    const { pr, branch } = await completedTask(p, { "merged-there.txt": "on GitHub\n" });
    const sha = await github.mergeOnGitHub(p.fullName, 101, "merge");
    const after = await syncNow(pr);
    expect(after).toMatchObject({ state: "merged", mergeCommit: sha, githubError: null });
    expect(await github.branchCommit(p.fullName, branch)).toBeUndefined();
    expect(await github.readFile(p.fullName, "main", "merged-there.txt")).toBe("on GitHub");
    expect(github.violations).toEqual([]);
  });

  it("merges from SAM through GitHub by the chosen strategy: the base branch has the change", async () => {
    const p = await project();
    const { pr, branch } = await completedTask(p, { "app.txt": "one\n2\nthree\n" });
    const result = await mergePullRequest(db, pr, { userId: ownerId, strategy: "squash" });
    expect(github.pull(p.fullName, 101)).toMatchObject({ state: "closed", merged: true, mergeMethod: "squash" });
    expect(result).toEqual({ state: "merged", mergeCommit: github.pull(p.fullName, 101)?.mergeCommitSha });
    expect(await github.readFile(p.fullName, "main", "app.txt")).toBe("one\n2\nthree");
    expect(await reload(pr)).toMatchObject({ state: "merged", mergeStrategy: "squash", additions: 1, deletions: 1 });
    expect(await github.branchCommit(p.fullName, branch)).toBeUndefined();
    expect(github.violations).toEqual([]);
  });

  it("refuses a merge GitHub cannot make as a conflict, and closes from SAM through GitHub", async () => {
    const p = await project();
    const first = await completedTask(p, { "app.txt": "one\nFIRST\nthree\n" }, "First edit");
    const second = await completedTask(p, { "app.txt": "one\nSECOND\nthree\n" }, "Second edit");
    await mergePullRequest(db, first.pr, { userId: ownerId, strategy: "merge" });
    const refused = await mergePullRequest(db, second.pr, { userId: ownerId, strategy: "merge" }).catch((e) => e);
    expect(refused).toBeInstanceOf(SamError);
    expect(refused).toMatchObject({ code: "conflict" });
    expect(refused.message).toBe(
      `GitHub refuses to merge pull request #102 on ${p.fullName}: Pull Request is not mergeable`,
    );
    expect((await reload(second.pr)).state).toBe("open");
    await closePullRequest(db, second.pr, { userId: ownerId });
    expect(github.pull(p.fullName, 102)).toMatchObject({ state: "closed", merged: false });
    expect(await reload(second.pr)).toMatchObject({ state: "closed" });
    expect(await github.branchCommit(p.fullName, second.branch)).toBeUndefined();
    expect(github.violations).toEqual([]);
  });

  it("opens of one pull request at once open it on GitHub once, and leave no error behind", async () => {
    const p = await project("read");
    const { pr } = await completedTask(p, { "new.txt": "hello\n" });
    expect(pr).toMatchObject({ githubNumber: null, githubError: expect.stringContaining("cannot open") });
    await setGitHubToken(p.id, github.grantToken([p.fullName], "write"));
    const before = github.requests.length;
    // Each caller holds its own copy of the row, as the task's open and the scheduler's sync do.
    const opened = await Promise.all(Array.from({ length: 5 }, () => openOnGitHub(db, { ...pr })));
    expect(opened).toEqual([true, true, true, true, true]);
    const creates = github.requests.slice(before).filter((r) => r === `POST /api/v3/repos/${p.fullName}/pulls`);
    expect(creates).toHaveLength(1);
    // A caller whose row is older than the finished open does not open it again.
    expect(await openOnGitHub(db, { ...pr })).toBe(true);
    expect(github.requests.slice(before).filter((r) => r.startsWith("POST"))).toHaveLength(1);
    expect(await reload(pr)).toMatchObject({ githubNumber: 101, githubError: null });
    expect(github.pulls(p.fullName)).toHaveLength(1);
    expect(github.violations).toEqual([]);
  });

  it("a token without rights: SAM's PR stays with the reason recorded, and a merge is refused naming the problem", async () => {
    const p = await project("read");
    const { pr } = await completedTask(p, { "new.txt": "hello\n" });
    const expected = `The GITHUB_TOKEN secret of this project cannot open a pull request on ${p.fullName}: Resource not accessible by personal access token`;
    expect(pr).toMatchObject({ state: "open", githubNumber: null, url: null, githubError: expected });
    expect(github.pulls(p.fullName)).toEqual([]);

    // Opened with a token that may, then the secret is replaced by one that may only read.
    await setGitHubToken(p.id, github.grantToken([p.fullName], "write"));
    const opened = await syncNow(pr);
    expect(opened).toMatchObject({ githubNumber: 101, githubError: null });
    await setGitHubToken(p.id, p.token);
    const refused = await mergePullRequest(db, opened, { userId: ownerId, strategy: "merge" }).catch((e) => e);
    expect(refused).toMatchObject({
      code: "forbidden",
      message: `The GITHUB_TOKEN secret of this project cannot merge pull request #101 on ${p.fullName}: Resource not accessible by personal access token`,
    });
    expect(refused.message).not.toContain(p.token);
    expect(github.pull(p.fullName, 101)?.state).toBe("open");
    expect((await reload(pr)).state).toBe("open");

    await setGitHubToken(p.id, `github_pat_${randomBytes(20).toString("hex")}`);
    const unknown = await mergePullRequest(db, opened, { userId: ownerId, strategy: "merge" }).catch((e) => e);
    expect(unknown.message).toBe(
      "GitHub does not accept the GITHUB_TOKEN secret of this project (Bad credentials); replace it in the project's settings",
    );
    expect(github.violations).toEqual([]);
  });
});
