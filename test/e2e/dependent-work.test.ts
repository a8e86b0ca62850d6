import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, pullRequests, tasks } from "@/db/schema";
import { pullRequestDiff, showPullRequest } from "@/lib/pulls/pull-json";
import { type ApiClient, isTerminal, openAppDb, ownerApi, type TaskView, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/**
 * A prompt whose sam-script the scripted model plays. Backticks inside the steps are JSON escapes,
 * so a parent's script can carry its children's scripted descriptions.
 */
function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

/**
 * A parent's step dispatching a scripted child. The child's own `{{N.…}}` references are written as
 * JSON escapes, so the parent's model passes them on instead of filling them from its own results.
 */
const dispatch = (title: string, steps: unknown[], dependsOn: string[] = []) => ({
  tool: "dispatch_task",
  args: {
    title,
    description: script(title, steps).replaceAll("{{", "\\u007b\\u007b"),
    ...(dependsOn.length > 0 ? { dependsOn } : {}),
  },
});

describe("work builds on work: a dependent task starts with its dependencies' branches merged in", () => {
  let app: AppServer;
  let api: ApiClient;
  let projectId: string;
  const repos = makeTempDir("sam-dependent-repos-");
  let repo: string;

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# dependent\nstatus: draft\n" } });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
  });
  afterAll(async () => {
    await app?.stop();
    repos.cleanup();
  });

  /** Runs a root task that dispatches the given children; answers the children's ids by title. */
  async function dispatchChildren(prompt: string, titles: string[]): Promise<Record<string, string>> {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode: "task" });
    expect(created.status).toBe(201);
    const db = openAppDb(app);
    try {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const children = await db.query.tasks.findMany({ where: eq(tasks.parentId, created.body.id) });
        if (children.length === titles.length) return Object.fromEntries(children.map((c) => [c.title, c.id]));
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      db.$client.close();
    }
    throw new Error(`The parent did not dispatch ${titles.join(", ")}`);
  }

  /** The task's PR once it has been counted (its figures are filled in after it is recorded). */
  async function countedPullRequest(taskId: string) {
    const db = openAppDb(app);
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, taskId) });
        if (pr?.headCommit) return pr;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      db.$client.close();
    }
    throw new Error(`Task ${taskId} has no counted pull request`);
  }

  async function storedEvents(taskId: string) {
    const db = openAppDb(app);
    try {
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
      if (!session) return [];
      const rows = await db.query.agentEvents.findMany({
        where: eq(agentEvents.sessionId, session.id),
        orderBy: asc(agentEvents.seq),
      });
      return rows.map((r) => ({ type: r.type, payload: JSON.parse(r.payload) as Record<string, unknown> }));
    } finally {
      db.$client.close();
    }
  }

  it("a task that depends on another reads its file: its workspace and its pushed branch hold the dependency's work", async () => {
    const ids = await dispatchChildren(
      script("Write a file, then read it in a second task.", [
        dispatch("Write a.txt", [
          { tool: "write_file", args: { path: "a.txt", content: "written by A\n" } },
          { tool: "complete_task", args: { summary: "Wrote a.txt" } },
        ]),
        dispatch(
          "Read a.txt",
          [
            { tool: "shell", args: { command: "cat a.txt" } },
            { tool: "write_file", args: { path: "b.txt", content: "written by B\n" } },
            { tool: "complete_task", args: { summary: "a.txt says: {{1.stdout}}" } },
          ],
          ["{{1.taskId}}"],
        ),
        { say: "Dispatched both." },
      ]),
      ["Write a.txt", "Read a.txt"],
    );
    const a = await waitForTask(api, ids["Write a.txt"]!, isTerminal, 90_000);
    expect(a).toMatchObject({ status: "completed", failureReason: null });
    const b = await waitForTask(api, ids["Read a.txt"]!, isTerminal, 90_000);
    expect(b).toMatchObject({ status: "completed", failureReason: null, summary: "a.txt says: written by A" });

    const shell = (await storedEvents(b.id)).find((e) => e.type === "tool_result" && e.payload.name === "shell");
    expect(JSON.stringify(shell?.payload.output)).toContain("written by A");
    // B's branch: base, A's work merged in, then B's own.
    expect(git(repo, "show", `${b.branch}:a.txt`)).toBe("written by A");
    expect(git(repo, "show", `${b.branch}:b.txt`)).toBe("written by B");
    git(repo, "merge-base", "--is-ancestor", a.branch!, b.branch!);

    // Each task's PR holds its own change only: B's is compared with base plus A's work (A's branch
    // merged into base as B's workspace started), so it shows b.txt and not A's a.txt. Its commits
    // are SAM's merge of A's work (no change against that comparison) and B's own.
    const prA = await countedPullRequest(a.id);
    const prB = await countedPullRequest(b.id);
    expect(prA).toMatchObject({ headBranch: a.branch, baseBranch: "main", changedFiles: 1, additions: 1 });
    expect(prB).toMatchObject({ headBranch: b.branch, baseBranch: "main", changedFiles: 1, additions: 1 });
    const db = openAppDb(app);
    try {
      const diffB = await pullRequestDiff(db, prB);
      expect(diffB.map((f) => [f.path, f.status])).toEqual([["b.txt", "added"]]);
      expect(diffB[0]?.patch).toContain("+written by B");
      const shownB = await showPullRequest(db, prB);
      expect(shownB.commits.map((c) => c.message.split("\n")[0])).toEqual([
        `Merge the work of task "Write a.txt" (${a.branch})`,
        "Read a.txt",
      ]);
      expect((await pullRequestDiff(db, prA)).map((f) => f.path)).toEqual(["a.txt"]);
    } finally {
      db.$client.close();
    }
  });

  it("dependencies whose work conflicts fail the dependent task at its start, naming the tasks and the path", async () => {
    const ids = await dispatchChildren(
      script("Two tasks rewrite one line; a third needs both.", [
        dispatch("Ship the draft", [
          { tool: "write_file", args: { path: "README.md", content: "# dependent\nstatus: shipped\n" } },
          { tool: "complete_task", args: { summary: "Shipped" } },
        ]),
        dispatch("Hold the draft", [
          { tool: "write_file", args: { path: "README.md", content: "# dependent\nstatus: on hold\n" } },
          { tool: "complete_task", args: { summary: "Held" } },
        ]),
        dispatch(
          "Announce the status",
          [{ tool: "complete_task", args: { summary: "Announced" } }],
          ["{{1.taskId}}", "{{2.taskId}}"],
        ),
        { say: "Dispatched all three." },
      ]),
      ["Ship the draft", "Hold the draft", "Announce the status"],
    );
    for (const title of ["Ship the draft", "Hold the draft"]) {
      expect(await waitForTask(api, ids[title]!, isTerminal, 90_000)).toMatchObject({ status: "completed" });
    }
    const d: TaskView = await waitForTask(api, ids["Announce the status"]!, isTerminal, 90_000);
    expect(d.status).toBe("failed");
    expect(d.failureReason).toBe(
      `Its dependencies' work does not merge: The work of task "Hold the draft" (${
        (await api.get<TaskView>(`/api/tasks/${ids["Hold the draft"]}`)).body.branch
      }) conflicts with task "Ship the draft" in README.md`,
    );
    // It never ran: no session events, and no branch of its own in the repository.
    expect(await storedEvents(d.id)).toEqual([]);
    expect(git(repo, "branch", "--list", "sam/announce-the-status-*")).toBe("");
  });
});
