import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatSessions, pullRequests } from "@/db/schema";
import { executeIdea } from "@/lib/ideas/execute";
import { createIdea } from "@/lib/ideas/ideas";
import { closedUnmergedReason } from "@/lib/pulls/states";
import { ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { seriousAxeViolations } from "../helpers/axe";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";
import { PullRequestPage } from "../pages/pull-request-page";

const SCREENSHOTS = path.resolve("test-results/screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const NOTES = "line one\nline two\nline three\n";

describe("the pull request page", () => {
  let app: AppServer;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  let projectId: string;
  const repos = makeTempDir("sam-pr-page-");
  let repo: string;

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# pulls\n", "notes.txt": NOTES } });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
    browser = await launchBrowser();
    ({ page } = await signInWithLink(browser, app.signInLink, app.baseUrl));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.stop();
      repos.cleanup();
    }
  });

  /** The steps of an agent that writes `files`, then completes. */
  const writing = (summary: string, files: Record<string, string>) => [
    ...Object.entries(files).map(([file, content]) => ({ tool: "write_file", args: { path: file, content } })),
    { tool: "complete_task", args: { summary } },
  ];

  /** Waits for the task to complete; answers its id, session and its PR's number once the PR is counted. */
  async function completedWithPull(taskId: string) {
    const task = await waitForTask(api, taskId, isTerminal, 90_000);
    expect(task.status).toBe("completed");
    const db = openAppDb(app);
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, task.id) });
        if (pr?.headCommit) {
          const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
          return { taskId: task.id, sessionId: session?.id, number: pr.number };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      db.$client.close();
    }
    throw new Error(`Task ${task.id} opened no pull request`);
  }

  /** Runs a task whose agent writes `files`, until its PR is counted. */
  async function taskWriting(title: string, files: Record<string, string>) {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt(title, writing(title, files)),
      mode: "task",
    });
    expect(created.status).toBe(201);
    return completedWithPull(created.body.id);
  }

  let first: Awaited<ReturnType<typeof taskWriting>>;

  it("renders a completed task's diff; a line comment shows under its line and in the list, and stays after a reload", async () => {
    first = await taskWriting("Greet and note", {
      "src/greet.ts": 'export const greeting = "hello from the first task";\n',
      "notes.txt": "line one\nline two, as the first task says\nline three\n",
    });
    expect(first.number).toBe(1);
    const pr = new PullRequestPage(page, app.baseUrl, projectId);
    await page.setViewportSize(DESKTOP);
    await pr.open(first.number);
    expect(await pr.state()).toBe("open");
    await pr.file("src/greet.ts").getByText("hello from the first task").waitFor();
    await pr.newLine("notes.txt", 2).getByText("as the first task says").waitFor();
    expect(await pr.mergeButton.isEnabled()).toBe(true);

    await pr.commentOnLine("notes.txt", 2, "Say **which** task, please.");
    await pr.lineComments("notes.txt").getByText("which").waitFor();
    expect(await pr.comments.count()).toBe(1);
    expect(await pr.comments.first().getAttribute("data-line")).toBe("2");

    await page.reload();
    await pr.waitForDiffs();
    expect(await pr.lineComments("notes.txt").count()).toBe(1);
    expect(await pr.lineComments("notes.txt").first().textContent()).toContain("Say which task, please.");

    // Side by side, the old line and the new one share a row; the comment stays under it.
    await pr.viewAs("Split");
    await pr.file("notes.txt").locator("table.diff-split").waitFor();
    expect(await pr.newLine("notes.txt", 2).textContent()).toMatch(/line two.*line two, as the first task says/);
    expect(await pr.lineComments("notes.txt").count()).toBe(1);
    await pr.viewAs("Unified");

    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect({ scheme, violations: await seriousAxeViolations(page) }).toEqual({ scheme, violations: [] });
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.screenshot({ path: path.join(SCREENSHOTS, "pull-request-1280x800-light.png") });
    await page.setViewportSize(PHONE);
    // At phone width the diff scrolls sideways inside itself; the page does not.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, "pull-request-390x844-light.png") });
    await page.setViewportSize(DESKTOP);
  });

  it("the chat's header links the task's pull request, which opens in the right panel", async () => {
    await page.goto(`${app.baseUrl}/projects/${projectId}/sessions/${first.sessionId}`);
    const link = page.getByTestId("pull-request-link");
    await link.getByText(`Pull request #${first.number}`).waitFor();
    await link.click();
    const panel = page.getByRole("complementary", { name: `Pull request: #${first.number} Greet and note` });
    await panel.locator('[data-testid="pull-diffs"][data-drawn="all"]').waitFor();
    expect(page.url()).toBe(`${app.baseUrl}/projects/${projectId}/pulls/${first.number}`);
    // The chat stays beside the panel.
    expect(await page.getByTestId("main-pane").getByTestId("session-title").textContent()).toBe("Greet and note");
  });

  it("after the first PR is merged from its page, a second one editing the same line lists the conflicting path and its Merge is disabled with the reason; the agent asked to resolve makes it mergeable", async () => {
    const second = await taskWriting("Note differently", {
      "notes.txt": "line one\nline two, as the second task says\nline three\n",
    });
    expect(second.number).toBe(2);
    const pr = new PullRequestPage(page, app.baseUrl, projectId);
    await pr.open(first.number);
    await pr.merge("squash");
    expect(git(repo, "show", "main:notes.txt")).toContain("as the first task says");

    await pr.open(second.number);
    expect(await pr.conflicts.allTextContents()).toEqual(["notes.txt"]);
    expect(await pr.mergeButton.isDisabled()).toBe(true);
    expect(await pr.mergeBlocked.textContent()).toBe("It conflicts with main in the files listed below.");
    expect(await pr.mergeButton.getAttribute("aria-describedby")).toBe("merge-blocked");
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(SCREENSHOTS, "pull-request-conflict-1280x800-dark.png") });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: path.join(SCREENSHOTS, "pull-request-conflict-390x844-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize(DESKTOP);

    // The revision task's agent plays the task's script again on the branch with main merged in: its
    // notes.txt settles the conflict, and the page (live, without a reload) offers Merge.
    expect(await pr.askAgentToResolve()).toBe("A revision task is resolving the conflicts");
    await pr.mergeButton.and(page.locator(":enabled")).waitFor({ timeout: 120_000 });
    expect(await pr.conflicts.count()).toBe(0);
  });

  it("an executed idea shows its task's PR on its page; changes are requested from the PR page; closed from it unmerged, the idea is back in Ready saying so", async () => {
    const db = openAppDb(app);
    let ideaId: string;
    let pull: Awaited<ReturnType<typeof completedWithPull>>;
    try {
      const owner = await ensureInstanceOwner(db);
      const idea = await createIdea(
        db,
        projectId,
        { kind: "user", userId: owner.id },
        {
          title: "Write a changelog",
          content: scriptPrompt("Write a changelog.", writing("Wrote a changelog", { "CHANGELOG.md": "# Changes\n" })),
        },
      );
      ideaId = idea.id;
      const task = await executeIdea(db, owner.id, projectId, idea.id);
      pull = await completedWithPull(task.id);
    } finally {
      db.$client.close();
    }
    const ideaPage = `${app.baseUrl}/projects/${projectId}/ideas/${ideaId}`;
    await page.goto(ideaPage);
    const link = page.getByTestId("idea-pull").getByTestId("pull-request-link");
    expect(await link.textContent()).toBe(`Pull request #${pull.number}open`);
    expect(await page.locator('[data-testid="idea-status"] [data-idea-status="executing"]').count()).toBe(1);

    await link.click();
    await page.waitForURL(`${app.baseUrl}/projects/${projectId}/pulls/${pull.number}`);
    expect(await new PullRequestPage(page, app.baseUrl, projectId).requestChanges("Date the entry, please.")).toBe(
      "A revision task is making the changes (1 comment)",
    );
    await page.getByRole("button", { name: "Close without merging" }).click();
    await page.locator('[data-testid="pull-request"] header [data-testid="pull-state"][data-state="closed"]').waitFor();

    await page.goto(ideaPage);
    expect(await page.getByTestId("idea-pull-closed").textContent()).toBe(
      `Back to Ready: ${closedUnmergedReason(pull.number)}.`,
    );
    expect(await page.locator('[data-testid="idea-status"] [data-idea-status="ready"]').count()).toBe(1);
  });
});
