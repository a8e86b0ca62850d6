import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullRequests } from "@/db/schema";
import { setSecret } from "@/lib/secrets/store";
import { ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type GitHubPullsFixture, startGitHubPullsFixture } from "../helpers/github-pulls-fixture";

interface PullSummary {
  id: string;
  number: number;
  taskId: string;
  title: string;
  state: string;
  headBranch: string;
  baseBranch: string;
  url: string | null;
}

const REPO = "octo/demo";

/** Waits until `condition` holds, asking again every 100 ms (each ask is a request to the app). */
async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A project whose remote is on (a stand-in of) GitHub Enterprise: the app, its daemon and a scripted
 * agent do the work; the daemon pushes over git's smart HTTP to the stand-in's `git http-backend`,
 * whose REST API checks every request SAM makes against GitHub's published description.
 */
describe("pull requests on GitHub", () => {
  let app: AppServer;
  let api: ApiClient;
  let github: GitHubPullsFixture;
  let projectId: string;
  // The app's secret key, so this test stores the project's secret as the settings page does.
  const secretKeyHex = randomBytes(32).toString("hex");

  beforeAll(async () => {
    github = await startGitHubPullsFixture();
    const cloneUrl = await github.createRepository(REPO, { "README.md": "# demo\n" });
    app = await startAppServer({
      env: {
        SAM_TICK_MS: "200",
        SAM_HEARTBEAT_MS: "500",
        SAM_SECRET_KEY: secretKeyHex,
        SAM_GITHUB_SYNC_MS: "300",
      },
    });
    api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/projects", { repo: cloneUrl });
    expect(created.status).toBe(201);
    projectId = created.body.id;
    const configured = await api.patch(`/api/projects/${projectId}`, { githubUrl: github.url });
    expect(configured.status).toBe(200);
    await setGitHubToken(github.grantToken([REPO], "write"));
  });
  afterAll(async () => {
    await app?.stop();
    await github?.stop();
  });

  /** Stores the project's GITHUB_TOKEN secret with the code the project's settings page runs. */
  async function setGitHubToken(value: string) {
    const db = openAppDb(app);
    try {
      const owner = await ensureInstanceOwner(db);
      await setSecret(db, Buffer.from(secretKeyHex, "hex"), owner.id, projectId, {
        name: "GITHUB_TOKEN",
        kind: "git_token",
        value,
      });
    } finally {
      db.$client.close();
    }
  }

  /** Runs a task whose agent writes `file` and completes; answers the task once it completed. */
  async function taskWriting(title: string, file: string, content: string) {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      title,
      mode: "task",
      prompt: scriptPrompt(title, [
        { tool: "write_file", args: { path: file, content } },
        { tool: "complete_task", args: { summary: `Wrote ${file}` } },
      ]),
    });
    expect(created.status).toBe(201);
    const task = await waitForTask(api, created.body.id, isTerminal, 90_000);
    expect(task.failureReason).toBeNull();
    expect(task.status).toBe("completed");
    return task;
  }

  /** The task's pull request as SAM lists it, once `ready` holds for it. */
  async function pullOf(taskId: string, ready: (pr: PullSummary) => boolean): Promise<PullSummary> {
    let found: PullSummary | undefined;
    await until(async () => {
      const list = await api.get<PullSummary[]>(`/api/projects/${projectId}/pulls`);
      found = list.body.find((p) => p.taskId === taskId);
      return found !== undefined && ready(found);
    }, 30_000).catch(() => {
      throw new Error(`the pull request of ${taskId} did not get there: ${JSON.stringify(found)}`);
    });
    return found as PullSummary;
  }

  async function githubColumns(prId: string) {
    const db = openAppDb(app);
    try {
      return await db.query.pullRequests.findFirst({
        where: eq(pullRequests.id, prId),
        columns: { githubNumber: true, githubError: true, mergeCommit: true, state: true },
      });
    } finally {
      db.$client.close();
    }
  }

  let firstBranch: string;

  it("opens a completed task's PR on GitHub, with its URL stored, every request as GitHub documents it", async () => {
    const task = await taskWriting("Add a greeting", "hello.txt", "hello from the agent\n");
    firstBranch = task.branch as string;
    // The daemon pushed the task's branch to the served repository over smart HTTP.
    expect(await github.branchCommit(REPO, firstBranch)).toMatch(/^[0-9a-f]{40}$/);
    const pr = await pullOf(task.id, (p) => p.url !== null);
    expect(pr).toMatchObject({ number: 1, state: "open", url: `${github.url}/${REPO}/pull/101` });
    expect(github.pulls(REPO)).toMatchObject([
      { number: 101, title: "Add a greeting", head: firstBranch, base: "main", state: "open" },
    ]);
    expect(github.pull(REPO, 101)?.body).toContain("Wrote hello.txt");
    expect(github.violations).toEqual([]);
  });

  it("takes in comments and then a merge done on GitHub: SAM's PR shows them, merged with GitHub's commit", async () => {
    const [pr] = (await api.get<PullSummary[]>(`/api/projects/${projectId}/pulls`)).body;
    expect(pr?.number).toBe(1);
    github.commentOnGitHub(REPO, 101, { login: "mona", body: "Say it louder?", path: "hello.txt", line: 1 });
    github.commentOnGitHub(REPO, 101, { login: "hubot", body: "Ship it" });
    type Comment = { author: string; body: string; path: string | null; line: number | null };
    let comments: Comment[] = [];
    await until(async () => {
      comments = (await api.get<{ comments: Comment[] }>(`/api/pulls/${pr!.id}`)).body.comments;
      return comments.length >= 2;
    }, 10_000);
    // Made in the same second on GitHub, the two have no order between them.
    const received = comments.map(({ author, body, path, line }) => ({ author, body, path, line }));
    expect(received.sort((a, b) => a.author.localeCompare(b.author))).toEqual([
      { author: "hubot", body: "Ship it", path: null, line: null },
      { author: "mona", body: "Say it louder?", path: "hello.txt", line: 1 },
    ]);

    const sha = await github.mergeOnGitHub(REPO, 101, "merge");
    const merged = await pullOf(pr!.taskId, (p) => p.state === "merged");
    expect(merged.state).toBe("merged");
    expect(await githubColumns(merged.id)).toMatchObject({ state: "merged", mergeCommit: sha, githubError: null });
    expect(await github.readFile(REPO, "main", "hello.txt")).toBe("hello from the agent");
    // The project deletes merged branches: through GitHub's API.
    await until(async () => (await github.branchCommit(REPO, firstBranch)) === undefined, 10_000);
    expect(github.violations).toEqual([]);
  });

  it("merges another PR from SAM through GitHub: the served repository's base branch has the change", async () => {
    const task = await taskWriting("Add notes", "notes.txt", "merged from SAM\n");
    const pr = await pullOf(task.id, (p) => p.url !== null);
    expect(pr).toMatchObject({ number: 2, url: `${github.url}/${REPO}/pull/102` });
    const res = await api.post<{ state: string; mergeCommit: string }>(`/api/pulls/${pr.id}/merge`, {
      strategy: "squash",
    });
    expect(res.status).toBe(200);
    expect(github.pull(REPO, 102)).toMatchObject({ state: "closed", merged: true, mergeMethod: "squash" });
    expect(res.body).toEqual({ state: "merged", mergeCommit: github.pull(REPO, 102)?.mergeCommitSha });
    expect(await github.branchCommit(REPO, "main")).toBe(res.body.mergeCommit);
    expect(await github.readFile(REPO, "main", "notes.txt")).toBe("merged from SAM");
    expect(github.requests).toContain(`PUT /api/v3/repos/${REPO}/pulls/102/merge`);
    expect(github.violations).toEqual([]);
  });

  it("a token without rights: the PR stays SAM's with the reason, and a merge is refused saying what GitHub refused", async () => {
    const readOnly = github.grantToken([REPO], "read");
    await setGitHubToken(readOnly);
    const task = await taskWriting("Add a todo list", "todo.txt", "- ship it\n");
    const pr = await pullOf(task.id, () => true);
    const problem = `The GITHUB_TOKEN secret of this project cannot open a pull request on ${REPO}: Resource not accessible by personal access token`;
    await until(async () => (await githubColumns(pr.id))?.githubError === problem, 10_000);
    expect(pr.url).toBeNull();
    expect(github.pulls(REPO)).toHaveLength(2);

    // With a token that may write it is opened on the next sync; with the read-only one back, a
    // merge from SAM is refused and the PR stays open, here and on GitHub.
    await setGitHubToken(github.grantToken([REPO], "write"));
    const opened = await pullOf(task.id, (p) => p.url !== null);
    await setGitHubToken(readOnly);
    const refused = await api.post<{ error: { code: string; message: string } }>(`/api/pulls/${opened.id}/merge`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      code: "forbidden",
      message: `The GITHUB_TOKEN secret of this project cannot merge pull request #103 on ${REPO}: Resource not accessible by personal access token`,
    });
    expect(JSON.stringify(refused.body)).not.toContain(readOnly);
    expect(app.output()).not.toContain(readOnly);
    expect(github.pull(REPO, 103)?.state).toBe("open");
    expect((await githubColumns(opened.id))?.state).toBe("open");
    expect(github.violations).toEqual([]);
  });
});
