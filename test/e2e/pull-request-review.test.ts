import fs from "node:fs";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, ideas, pullRequests, tasks, workspaces } from "@/db/schema";
import { executeIdea } from "@/lib/ideas/execute";
import { createIdea } from "@/lib/ideas/ideas";
import { ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

interface PullDetail {
  id: string;
  number: number;
  taskId: string;
  state: string;
  headBranch: string;
  baseBranch: string;
  headCommit: string | null;
  files: { path: string; status: string; additions: number; deletions: number }[];
  commits: { sha: string; message: string }[];
  mergeable: boolean;
  conflicts: string[];
  comments: { id: string; body: string; path: string | null; line: number | null; sentAt: string | null }[];
}

interface RequestChangesResult {
  via: "session" | "revision";
  taskId: string;
  comments: number;
}

interface ErrorBody {
  error: { code: string; message: string; details?: { reason?: string; conflicts?: string[] } };
}

/**
 * Review by SAM, end to end (real app, daemon, git repository and scripted agents): Request changes
 * and Ask the agent to resolve (over HTTP) hand the PR to an agent that pushes to its branch again.
 */
describe("reviewing a pull request: its agent revises it on the same branch", () => {
  let app: AppServer;
  let api: ApiClient;
  let projectId: string;
  let repo: string;
  const temp = makeTempDir("sam-pull-review-");

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    repo = makeGitRepo(path.join(temp.dir, "project"), {
      files: { "README.md": "# review\n", "status.txt": "status: draft\n" },
    });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
  });
  afterAll(async () => {
    await app?.stop();
    temp.cleanup();
  });

  /** Runs `work` with the app's database and the owner's user id. */
  async function withDb<T>(work: (db: ReturnType<typeof openAppDb>, userId: string) => Promise<T>): Promise<T> {
    const db = openAppDb(app);
    try {
      return await work(db, (await ensureInstanceOwner(db)).id);
    } finally {
      db.$client.close();
    }
  }

  /** Runs a task whose agent writes `file` and completes; answers the task and its counted PR. */
  async function taskWithPullRequest(title: string, file: string, content: string) {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt(title, [
        { tool: "write_file", args: { path: file, content } },
        { tool: "complete_task", args: { summary: title } },
      ]),
      mode: "task",
    });
    expect(created.status).toBe(201);
    const task = await waitForTask(api, created.body.id, isTerminal, 90_000);
    expect(task).toMatchObject({ status: "completed", failureReason: null });
    const pr = await withDb(async (db) => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const row = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, task.id) });
        if (row?.headCommit) return row;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`Task ${task.id} completed without a counted pull request`);
    });
    return { task, pr };
  }

  const showPull = async (id: string) => {
    const res = await api.get<PullDetail>(`/api/pulls/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  /** Request changes over HTTP: answers what the app did, or fails with its error. */
  async function requestChanges(id: string, body?: string) {
    const res = await api.post<RequestChangesResult>(
      `/api/pulls/${id}/request-changes`,
      body === undefined ? {} : { body },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  /** Ask the agent to resolve, over HTTP. */
  async function askAgentToResolve(id: string, note?: string) {
    const res = await api.post<{ taskId: string }>(`/api/pulls/${id}/resolve`, note === undefined ? {} : { note });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  const pullRow = (id: string) =>
    withDb(async (db) => {
      const row = await db.query.pullRequests.findFirst({ where: eq(pullRequests.id, id) });
      if (!row) throw new Error(`No pull request ${id}`);
      return row;
    });

  async function toolOutputs(taskId: string, name: string): Promise<string[]> {
    return withDb(async (db) => {
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
      if (!session) return [];
      const rows = await db.query.agentEvents.findMany({
        where: eq(agentEvents.sessionId, session.id),
        orderBy: asc(agentEvents.seq),
      });
      return rows
        .map((r) => ({ type: r.type, payload: JSON.parse(r.payload) as { name?: string; output?: unknown } }))
        .filter((e) => e.type === "tool_result" && e.payload.name === name)
        .map((e) => JSON.stringify(e.payload.output));
    });
  }

  it("Request changes: a line comment reaches a revision task on the PR's branch, which pushes a new commit the PR shows; no second PR", async () => {
    const { task, pr } = await taskWithPullRequest("Write the plan", "plan.txt", "one\ntwo\nthree\n");
    const comment = await api.post<{ id: string }>(`/api/pulls/${pr.id}/comments`, {
      path: "plan.txt",
      line: 2,
      body: scriptPrompt("Say 'second' here instead of 'two'.", [
        { tool: "write_file", args: { path: "plan.txt", content: "one\nsecond\nthree\n" } },
        { tool: "complete_task", args: { summary: "Said second instead of two" } },
      ]),
    });
    expect(comment.status).toBe(201);

    const sent = await requestChanges(pr.id);
    expect(sent).toMatchObject({ via: "revision", comments: 1 });
    const revisionRow = await withDb((db) => db.query.tasks.findFirst({ where: eq(tasks.id, sent.taskId) }));
    expect(revisionRow).toMatchObject({
      title: `Revise #${pr.number}: Write the plan`,
      pullRequestId: pr.id,
      branch: pr.headBranch,
      baseBranch: pr.headBranch,
      mergesBase: false,
      sourceIdeaId: null,
    });
    // The agent reads the commented line where it is, with the line's text, then the comment.
    expect(revisionRow?.description).toContain("### plan.txt:2");
    expect(revisionRow?.description).toContain("> two");
    // The comment was sent with the task's creation, so it is not sent again.
    expect((await showPull(pr.id)).comments.map((c) => c.sentAt !== null)).toEqual([true]);
    const nothing = await api.post<ErrorBody>(`/api/pulls/${pr.id}/request-changes`, {});
    expect(nothing.status).toBe(400);
    expect(nothing.body.error.message).toContain("no comments that were not sent yet");

    const revision = await waitForTask(api, sent.taskId, isTerminal, 90_000);
    expect(revision).toMatchObject({ status: "completed", failureReason: null, branch: pr.headBranch });
    // Pushed to the PR's branch as a fast-forward: the task's commit, then the revision's.
    expect(git(repo, "show", `${pr.headBranch}:plan.txt`)).toBe("one\nsecond\nthree");
    git(repo, "merge-base", "--is-ancestor", pr.headCommit as string, pr.headBranch);
    // The revision's completion recounted the PR it revised (before anyone reads it).
    const newHead = git(repo, "rev-parse", pr.headBranch);
    const deadline = Date.now() + 30_000;
    while ((await pullRow(pr.id)).headCommit !== newHead && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await pullRow(pr.id)).toMatchObject({ headCommit: newHead, changedFiles: 1, additions: 3 });

    const shown = await showPull(pr.id);
    expect(shown).toMatchObject({ state: "open", taskId: task.id, mergeable: true, conflicts: [] });
    expect(shown.commits).toHaveLength(2);
    expect(shown.headCommit).toBe(git(repo, "rev-parse", pr.headBranch));
    expect(shown.files).toEqual([{ path: "plan.txt", status: "added", additions: 3, deletions: 0 }]);
    const diff = await api.get<{ path: string; patch: string }[]>(`/api/pulls/${pr.id}/diff`);
    expect(diff.body[0]?.patch).toContain("+second");
    // The revision opened no PR of its own; the PR it revised was recounted at its new head.
    const list = await api.get<{ id: string; taskId: string }[]>(`/api/projects/${projectId}/pulls`);
    expect(list.body.filter((p) => p.taskId === sent.taskId)).toEqual([]);
  });

  it("Conflicts: after one of two tasks that edit the same line merges, the other names the path and refuses to merge; Ask the agent to resolve leads to a mergeable PR that merges", async () => {
    const [a, b] = await Promise.all([
      taskWithPullRequest("Mark it ready", "status.txt", "status: ready\n"),
      taskWithPullRequest("Mark it shipped", "status.txt", "status: shipped\n"),
    ]);
    const mergedA = await api.post<{ state: string }>(`/api/pulls/${a.pr.id}/merge`, { strategy: "merge" });
    expect(mergedA).toMatchObject({ status: 200, body: { state: "merged" } });

    const conflicted = await showPull(b.pr.id);
    expect(conflicted).toMatchObject({ state: "open", mergeable: false, conflicts: ["status.txt"] });
    const refused = await api.post<ErrorBody>(`/api/pulls/${b.pr.id}/merge`, { strategy: "merge" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toMatchObject({ reason: "merge_conflict", conflicts: ["status.txt"] });
    // A PR that merges cleanly has nothing to resolve.
    const clean = await taskWithPullRequest("Write notes", "notes.txt", "notes\n");
    const nothingToResolve = await api.post<ErrorBody>(`/api/pulls/${clean.pr.id}/resolve`, {});
    expect(nothingToResolve.status).toBe(409);
    expect(nothingToResolve.body.error.message).toContain("has no conflicts with main");

    const asked = await askAgentToResolve(
      b.pr.id,
      scriptPrompt("Keep both: it was ready, then shipped.", [
        { tool: "shell", args: { command: "cat status.txt" } },
        { tool: "write_file", args: { path: "status.txt", content: "status: ready, then shipped\n" } },
        { tool: "complete_task", args: { summary: "Resolved status.txt" } },
      ]),
    );
    const resolverRow = await withDb((db) => db.query.tasks.findFirst({ where: eq(tasks.id, asked.taskId) }));
    expect(resolverRow).toMatchObject({
      title: `Resolve conflicts of #${b.pr.number}: Mark it shipped`,
      pullRequestId: b.pr.id,
      mergesBase: true,
      branch: b.pr.headBranch,
    });
    expect(resolverRow?.description).toContain("status.txt");
    expect(resolverRow?.description).toContain("main");

    const resolver = await waitForTask(api, asked.taskId, isTerminal, 90_000);
    expect(resolver).toMatchObject({ status: "completed", failureReason: null, branch: b.pr.headBranch });
    // The agent's workspace started with main merged in and the conflict left in the file.
    const [cat] = await toolOutputs(asked.taskId, "shell");
    expect(cat).toContain("<<<<<<<");
    expect(cat).toContain("status: ready");
    expect(cat).toContain("status: shipped");
    // Its save committed the merge: the PR's branch now holds main's tip, and the resolution.
    const parents = git(repo, "rev-list", "--parents", "-n", "1", b.pr.headBranch).split(" ");
    expect(parents).toHaveLength(3);
    git(repo, "merge-base", "--is-ancestor", "main", b.pr.headBranch);
    expect(git(repo, "show", `${b.pr.headBranch}:status.txt`)).toBe("status: ready, then shipped");

    const resolved = await showPull(b.pr.id);
    expect(resolved).toMatchObject({ state: "open", mergeable: true, conflicts: [] });
    const list = await api.get<{ taskId: string }[]>(`/api/projects/${projectId}/pulls`);
    expect(list.body.filter((p) => p.taskId === asked.taskId)).toEqual([]);
    const mergedB = await api.post<{ state: string }>(`/api/pulls/${b.pr.id}/merge`, { strategy: "merge" });
    expect(mergedB).toMatchObject({ status: 200, body: { state: "merged" } });
    expect(git(repo, "show", "main:status.txt")).toBe("status: ready, then shipped");
    // A merged PR takes no more review.
    for (const action of ["request-changes", "resolve"]) {
      const late = await api.post<ErrorBody>(`/api/pulls/${b.pr.id}/${action}`, {});
      expect(late.status).toBe(409);
      expect(late.body.error.message).toContain(`#${b.pr.number} is merged`);
    }
  });

  it("Request changes while a revision task still works on the PR reaches that task's live session as a message; its next push carries it", async () => {
    const { pr } = await taskWithPullRequest("Draft it", "draft.txt", "v1\n");
    await api.post(`/api/pulls/${pr.id}/comments`, {
      body: scriptPrompt("Make it v2, once told to go on.", [
        // The agent works until the test lets it go on, so the next review finds it alive.
        { tool: "shell", args: { command: "until [ -e .git/sam-go ]; do sleep 0.05; done" } },
        { tool: "write_file", args: { path: "draft.txt", content: "v2\n" } },
      ]),
    });
    const first = await requestChanges(pr.id);
    expect(first.via).toBe("revision");
    await waitForTask(api, first.taskId, (t) => t.status === "running" || isTerminal(t), 60_000);

    const line = await api.post(`/api/pulls/${pr.id}/comments`, {
      path: "draft.txt",
      line: 1,
      body: scriptPrompt("Then v3.", [
        { tool: "write_file", args: { path: "draft.txt", content: "v3\n" } },
        { tool: "complete_task", args: { summary: "v3" } },
      ]),
    });
    expect(line.status).toBe(201);
    const second = await requestChanges(pr.id, "And keep it short.");
    expect(second).toEqual({ via: "session", taskId: first.taskId, comments: 2 });
    expect((await showPull(pr.id)).comments.every((c) => c.sentAt !== null)).toBe(true);

    const workspace = await withDb((db) =>
      db.query.workspaces.findFirst({ where: eq(workspaces.taskId, first.taskId) }),
    );
    fs.writeFileSync(path.join(workspace?.path as string, ".git", "sam-go"), "");
    const revision = await waitForTask(api, first.taskId, isTerminal, 90_000);
    expect(revision).toMatchObject({ status: "completed", failureReason: null, branch: pr.headBranch });
    // The review reached the same session as a user message, with the line and the body.
    const received = await withDb(async (db) => {
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, first.taskId) });
      const rows = await db.query.agentEvents.findMany({
        where: eq(agentEvents.sessionId, session?.id as string),
        orderBy: asc(agentEvents.seq),
      });
      return rows.filter((r) => r.type === "user_message").map((r) => JSON.parse(r.payload) as { text: string });
    });
    expect(received).toHaveLength(2);
    expect(received[1]?.text).toContain("### draft.txt:1");
    expect(received[1]?.text).toContain("> v1");
    expect(received[1]?.text).toContain("And keep it short.");
    expect(git(repo, "show", `${pr.headBranch}:draft.txt`)).toBe("v3");
    const shown = await showPull(pr.id);
    expect(shown.commits).toHaveLength(2);
    expect(shown.headCommit).toBe(git(repo, "rev-parse", pr.headBranch));
  });

  it("the idea follows its PR, not the revision: a revision that fails leaves the idea executing and the PR open; merging the revised PR makes it done", async () => {
    const { idea, taskId } = await withDb(async (db, userId) => {
      const idea = await createIdea(
        db,
        projectId,
        { kind: "user", userId },
        {
          title: "Write the changelog",
          content: scriptPrompt("A changelog", [
            { tool: "write_file", args: { path: "CHANGELOG.md", content: "# Changes\n" } },
            { tool: "complete_task", args: { summary: "Wrote the changelog" } },
          ]),
        },
      );
      return { idea, taskId: (await executeIdea(db, userId, projectId, idea.id)).id };
    });
    expect((await waitForTask(api, taskId, isTerminal, 90_000)).status).toBe("completed");
    const pr = await withDb(async (db) => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const row = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, taskId) });
        if (row) return row;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("The idea's task opened no PR");
    });
    const ideaStatus = () =>
      withDb(async (db) => (await db.query.ideas.findFirst({ where: eq(ideas.id, idea.id) }))?.status);
    expect(await ideaStatus()).toBe("executing");

    const failing = await requestChanges(pr.id, '```sam-script\n[{"nonsense": true}]\n```');
    const failed = await waitForTask(api, failing.taskId, isTerminal, 90_000);
    expect(failed.status).toBe("failed");
    expect(await ideaStatus()).toBe("executing");
    expect((await pullRow(pr.id)).state).toBe("open");

    const fixing = await requestChanges(
      pr.id,
      scriptPrompt("Add a line", [
        { tool: "write_file", args: { path: "CHANGELOG.md", content: "# Changes\n\n- reviewed\n" } },
        { tool: "complete_task", args: { summary: "Added a line" } },
      ]),
    );
    expect(fixing.via).toBe("revision");
    expect(await waitForTask(api, fixing.taskId, isTerminal, 90_000)).toMatchObject({ status: "completed" });
    expect(await ideaStatus()).toBe("executing");
    const merged = await api.post<{ state: string }>(`/api/pulls/${pr.id}/merge`, { strategy: "squash" });
    expect(merged).toMatchObject({ status: 200, body: { state: "merged" } });
    expect(git(repo, "show", "main:CHANGELOG.md")).toBe("# Changes\n\n- reviewed");
    expect(await ideaStatus()).toBe("done");
  });

  it("two Request changes at once put one task on the PR's branch: one creates the revision, the other reaches it as a message", async () => {
    const { pr } = await taskWithPullRequest("Name it", "name.txt", "sam\n");
    const [one, two] = await Promise.all([
      requestChanges(pr.id, "Capitalize it."),
      requestChanges(pr.id, "And add a period."),
    ]);
    expect([one.via, two.via].sort()).toEqual(["revision", "session"]);
    expect(one.taskId).toBe(two.taskId);
    expect([one.comments, two.comments]).toEqual([1, 1]);
    const revisions = await withDb((db) => db.query.tasks.findMany({ where: eq(tasks.pullRequestId, pr.id) }));
    expect(revisions.map((t) => t.id)).toEqual([one.taskId]);
    await waitForTask(api, one.taskId, isTerminal, 90_000);
  });
});
