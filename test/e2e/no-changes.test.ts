import path from "node:path";
import { and, asc, eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, ideas, taskEvents } from "@/db/schema";
import { executeIdea } from "@/lib/ideas/execute";
import { createIdea } from "@/lib/ideas/ideas";
import { NO_CHANGES_REASON } from "@/lib/ideas/task-outcome";
import { ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/** A script that only talks: the agent changes no file. */
const TALK_ONLY = [
  { say: "There is nothing to change: the README already says it." },
  { tool: "complete_task", args: { summary: "Nothing needed changing" } },
];

describe("a task that changes nothing", () => {
  let app: AppServer;
  let api: ApiClient;
  let projectId: string;
  const repos = makeTempDir("sam-no-changes-");
  let repo: string;

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# demo\n" } });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
  });
  afterAll(async () => {
    await app?.stop();
    repos.cleanup();
  });

  /** The `sam/*` branches of the project repository, as a client of it sees them. */
  const samBranches = () => ({
    local: git(repo, "branch", "--list", "sam/*"),
    remote: git(repos.dir, "ls-remote", "--heads", repo, "sam/*"),
  });

  /** The project's pull requests, as `sam pr list --json` and the HTTP list give them. */
  async function pullRequests() {
    const listed = await runSam(["pr", "list", "--project", projectId, "--json"], { SAM_DATA_DIR: app.dataDir });
    expect(listed.code, listed.stderr).toBe(0);
    const http = await api.get<unknown[]>(`/api/projects/${projectId}/pulls`);
    expect(http.status).toBe(200);
    return { cli: JSON.parse(listed.stdout) as unknown[], http: http.body };
  }

  it("completes with no branch and opens no pull request, and the project repository gets no sam/* branch", async () => {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt("Check the README.", TALK_ONLY),
      mode: "task",
    });
    expect(created.status).toBe(201);
    const task = await waitForTask(api, created.body.id, isTerminal);
    expect(task.failureReason).toBeNull();
    expect(task.status).toBe("completed");
    expect(task.summary).toBe("Nothing needed changing");
    expect(task.branch).toBeNull();
    expect(samBranches()).toEqual({ local: "", remote: "" });

    const db = openAppDb(app);
    try {
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
      const events = await db.query.agentEvents.findMany({
        where: eq(agentEvents.sessionId, session!.id),
        orderBy: asc(agentEvents.seq),
      });
      const saved = events.find((e) => e.type === "work_saved");
      expect(JSON.parse(saved!.payload)).toMatchObject({ changed: false, pushed: false });
      const finished = JSON.parse(events.at(-1)!.payload) as Record<string, unknown>;
      expect(finished).toEqual({ type: "session_finished", outcome: "completed" });
    } finally {
      db.$client.close();
    }

    const shown = await runSam(["task", "show", task.id], { SAM_DATA_DIR: app.dataDir });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("branch:  none (the task changed nothing)");
    const json = await runSam(["task", "show", task.id, "--json"], { SAM_DATA_DIR: app.dataDir });
    expect(JSON.parse(json.stdout).pullRequest).toBeNull();
    expect(await pullRequests()).toEqual({ cli: [], http: [] });
  });

  it("returns an idea executed into it to ready, with the reason the task changed nothing, shown on the idea's page", async () => {
    const db = openAppDb(app);
    try {
      const owner = await ensureInstanceOwner(db);
      const idea = await createIdea(
        db,
        projectId,
        { kind: "user", userId: owner.id },
        { title: "Check the README again", content: scriptPrompt("Check the README again.", TALK_ONLY) },
      );
      const task = await executeIdea(db, owner.id, projectId, idea.id);
      const ended = await waitForTask(api, task.id, isTerminal, 90_000);
      expect(ended.status).toBe("completed");
      expect(ended.branch).toBeNull();

      const after = await db.query.ideas.findFirst({ where: eq(ideas.id, idea.id) });
      expect(after?.status).toBe("ready");
      const completion = await db.query.taskEvents.findFirst({
        where: and(eq(taskEvents.taskId, task.id), eq(taskEvents.toStatus, "completed")),
      });
      expect(completion?.reason).toBe(NO_CHANGES_REASON);
      expect(samBranches()).toEqual({ local: "", remote: "" });
      expect(await pullRequests()).toEqual({ cli: [], http: [] });

      const browser: Browser = await launchBrowser();
      try {
        const { page } = await signInWithLink(browser, app.signInLink, app.baseUrl);
        await page.goto(`${app.baseUrl}/projects/${projectId}/ideas/${idea.id}`);
        const note = page.getByTestId("idea-unchanged");
        await note.waitFor();
        expect(await note.textContent()).toBe(`Back to Ready: ${NO_CHANGES_REASON}.`);
        expect(await page.locator('[data-testid="idea-status"] [data-idea-status="ready"]').count()).toBe(1);
      } finally {
        await browser.close();
      }
    } finally {
      db.$client.close();
    }
  });
});
