import fs from "node:fs";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatSessions, ideas, tasks } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { listSessionIdeas } from "@/lib/ideas/session-ideas";
import { type ApiClient, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { git, makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { callToolOk, createProject } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";
import { IdeaBoard } from "../pages/idea-board";
import { IdeaPage } from "../pages/idea-page";

const SCREENSHOTS = path.resolve("test-results/screenshots");

describe("ideas: captured in conversations, moved on the board, executed into tasks", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  let db: ReturnType<typeof openAppDb>;
  const repos = makeTempDir("sam-ideas-repos-");
  let repo: string;
  let projectId: string;
  let sharedIdeaId: string;
  let firstTaskId: string;
  let secondSessionId: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    await owner.page.setViewportSize({ width: 1400, height: 900 });
    api = await ownerApi(app);
    db = openAppDb(app);
    repo = makeGitRepo(path.join(repos.dir, "notes"));
    projectId = await createProject(api, repo);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    db?.$client.close();
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  const boardUrl = () => `${app.baseUrl}/projects/${projectId}/ideas`;
  const card = (page: Page, title: string) => page.getByTestId("idea-card").filter({ hasText: title });
  const column = (page: Page, status: string) => page.getByTestId(`column-${status}`);

  async function conversation(prompt: string): Promise<string> {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode: "conversation" });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function sessionOf(taskId: string): Promise<string> {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    return session!.id;
  }

  /** Waits until the stored idea has `status` (the server's answer to a move, not the board's optimism). */
  async function waitForIdeaStatus(title: string, status: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const row = await db.query.ideas.findFirst({
        where: and(eq(ideas.projectId, projectId), eq(ideas.title, title)),
      });
      if (row?.status === status) return;
      if (Date.now() > deadline) throw new Error(`${title} is ${row?.status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Drags a card by its handle onto a target with small pointer steps, as a person would. */
  async function drag(page: Page, handle: Locator, target: Locator, where: "center" | "top" = "center") {
    const from = (await handle.boundingBox())!;
    const to = (await target.boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + from.width / 2 + 8, from.y + from.height / 2 + 8, { steps: 4 });
    const y = where === "top" ? to.y + 4 : to.y + to.height / 2;
    await page.mouse.move(to.x + to.width / 2, y, { steps: 20 });
    await page.mouse.move(to.x + to.width / 2, y + 1, { steps: 2 });
    await page.mouse.up();
  }

  it("shows a conversation's create_idea and link_idea calls live on the open board; the shared idea lists both conversations", async () => {
    const first = await conversation(
      scriptPrompt("Let us think about notes.", [
        { tool: "create_idea", args: { title: "Shared idea", content: "Sync notes across devices", priority: 2 } },
        { say: "Captured it." },
      ]),
    );
    firstTaskId = first;
    await waitForTask(api, first, (t) => t.status === "awaiting_followup");
    const shared = await db.query.ideas.findFirst({ where: eq(ideas.createdByTaskId, first) });
    expect(shared?.title).toBe("Shared idea");
    sharedIdeaId = shared!.id;

    const { page } = owner;
    await page.goto(boardUrl());
    await page.locator('[data-testid="board-stream"][data-state="live"]').waitFor();
    await page.evaluate(() => {
      (window as unknown as { stayedOnPage: boolean }).stayedOnPage = true;
    });
    await card(page, "Shared idea").locator('[data-testid="idea-link-count"][data-count="1"]').waitFor();
    expect(await card(page, "Idea one").count()).toBe(0);

    const second = await conversation(
      scriptPrompt("More about notes.", [
        { tool: "create_idea", args: { title: "Idea one", content: "Tag notes" } },
        { tool: "create_idea", args: { title: "Idea two", content: "Search notes", priority: 3 } },
        { tool: "link_idea", args: { ideaId: sharedIdeaId, context: "came back to syncing" } },
        { say: "Two new ideas and one linked." },
      ]),
    );
    secondSessionId = await sessionOf(second);

    // The board shows them without a reload.
    await column(page, "draft").getByTestId("idea-card").filter({ hasText: "Idea one" }).waitFor({ timeout: 60_000 });
    await column(page, "draft").getByTestId("idea-card").filter({ hasText: "Idea two" }).waitFor({ timeout: 60_000 });
    await card(page, "Shared idea")
      .locator('[data-testid="idea-link-count"][data-count="2"]')
      .waitFor({ timeout: 60_000 });
    expect(await card(page, "Idea one").getByTestId("idea-link-count").getAttribute("data-count")).toBe("1");
    expect(await page.evaluate(() => (window as unknown as { stayedOnPage?: boolean }).stayedOnPage)).toBe(true);

    // The shared idea's page lists both conversations, each opening its session.
    await card(page, "Shared idea").getByRole("link", { name: "Shared idea" }).click();
    await page.waitForURL(`${boardUrl()}/${sharedIdeaId}`);
    const conversations = page.getByTestId("idea-conversations");
    const firstSession = await sessionOf(first);
    for (const sessionId of [firstSession, secondSessionId]) {
      const item = conversations.locator(`[data-session-id="${sessionId}"]`);
      await item.waitFor();
      expect(await item.getByRole("link").getAttribute("href")).toBe(`/projects/${projectId}/sessions/${sessionId}`);
    }
    await conversations.getByText("came back to syncing").waitFor();

    // The second conversation lists its three ideas; get_idea lists both conversations with their titles.
    await waitForTask(api, second, (t) => t.status === "awaiting_followup");
    const sessionIdeas = await listSessionIdeas(db, secondSessionId);
    expect(sessionIdeas.map((i) => i.title).sort()).toEqual(["Idea one", "Idea two", "Shared idea"]);
    expect(sessionIdeas.find((i) => i.id === sharedIdeaId)?.context).toBe("came back to syncing");
    const token = await mintTaskToken(db, second);
    const details = await callToolOk<{ linkedSessions: { sessionId: string; title: string }[] }>(
      app.baseUrl,
      token,
      "get_idea",
      { ideaId: sharedIdeaId },
    );
    expect(details.linkedSessions.map((s) => s.sessionId).sort()).toEqual([firstSession, secondSessionId].sort());
    expect(details.linkedSessions.map((s) => s.title)).toContain("Let us think about notes.");
  });

  it("drags an idea from draft to ready, and it stays there after a reload", async () => {
    const { page } = owner;
    await page.goto(boardUrl());
    await page.locator('[data-testid="board-stream"][data-state="live"]').waitFor();
    await drag(page, page.getByRole("button", { name: "Drag Idea one" }), column(page, "ready"));
    await column(page, "ready").getByTestId("idea-card").filter({ hasText: "Idea one" }).waitFor();
    await waitForIdeaStatus("Idea one", "ready");

    await page.reload();
    await column(page, "ready").getByTestId("idea-card").filter({ hasText: "Idea one" }).waitFor();
    expect(await column(page, "draft").getByTestId("idea-card").filter({ hasText: "Idea one" }).count()).toBe(0);
  });

  it("reorders cards within a column by dragging, and the order is kept", async () => {
    const { page } = owner;
    // "Move to" puts Shared idea on top of Ready, above Idea one.
    await card(page, "Shared idea").getByLabel("Move Shared idea to").selectOption("ready");
    await waitForIdeaStatus("Shared idea", "ready");
    const titles = async () => await column(page, "ready").getByTestId("idea-card").getByRole("link").allTextContents();
    await expect.poll(titles).toEqual(["Shared idea", "Idea one"]);

    await drag(page, page.getByRole("button", { name: "Drag Idea one" }), card(page, "Shared idea"), "top");
    await expect.poll(titles).toEqual(["Idea one", "Shared idea"]);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = await db.query.ideas.findMany({
        where: and(eq(ideas.projectId, projectId), eq(ideas.status, "ready")),
      });
      const stored = rows.sort((a, b) => a.position - b.position).map((r) => r.title);
      if (stored.join() === "Idea one,Shared idea") break;
      if (Date.now() > deadline) throw new Error(`stored order: ${stored.join()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.reload();
    await expect.poll(titles).toEqual(["Idea one", "Shared idea"]);
  });

  it("moves a card with the keyboard: pick up with Space, arrow to the next column, drop with Space", async () => {
    const { page } = owner;
    await page.goto(boardUrl());
    await page.locator('[data-testid="board-stream"][data-state="live"]').waitFor();
    const handle = page.getByRole("button", { name: "Drag Idea two" });
    await handle.focus();
    await page.keyboard.press("Space");
    // Picked up: the handle is pressed; after the next frames the board has measured its columns.
    await page.locator('[aria-label="Drag Idea two"][aria-pressed="true"]').waitFor();
    await page.evaluate(
      () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(null)))),
    );
    await page.keyboard.press("ArrowRight");
    await column(page, "exploring").getByTestId("idea-card").filter({ hasText: "Idea two" }).waitFor();
    await page.keyboard.press("Space");
    await waitForIdeaStatus("Idea two", "exploring");

    // The "Move to" menu is the other keyboard path: focus it, choose with an arrow key.
    const menu = card(page, "Idea two").getByLabel("Move Idea two to");
    await menu.focus();
    await menu.press("ArrowDown");
    await waitForIdeaStatus("Idea two", "ready");
    await page.reload();
    await column(page, "ready").getByTestId("idea-card").filter({ hasText: "Idea two" }).waitFor();
  });

  it("executes an idea: one task for two Executes at once, its description carries the idea, and the idea goes executing → done with the branch", async () => {
    const { page } = owner;
    await page.goto(boardUrl());
    await page.getByRole("button", { name: "+ New idea" }).click();
    const form = page.getByRole("form", { name: "New idea" });
    await form.getByLabel("Title").fill("Write the notes index");
    await form
      .getByLabel(/^Details/)
      .fill(
        scriptPrompt("Create index.md listing the notes.", [
          { say: "Writing the index." },
          { tool: "write_file", args: { path: "index.md", content: "# Notes\n" } },
        ]),
      );
    await form.getByLabel("Priority").selectOption("2");
    await form.getByRole("button", { name: "Add idea" }).click();
    await column(page, "draft").getByTestId("idea-card").filter({ hasText: "Write the notes index" }).waitFor();
    const idea = await db.query.ideas.findFirst({ where: eq(ideas.title, "Write the notes index") });
    expect(idea).toMatchObject({ status: "draft", priority: 2, createdByTaskId: null });
    // It came up in the first conversation: link it there so Execute carries that context.
    const firstToken = await mintTaskToken(db, firstTaskId);
    await callToolOk(app.baseUrl, firstToken, "link_idea", { ideaId: idea!.id, context: "the index came up here" });

    // A third page records the idea's statuses as the board stream sends them.
    // Every page gets a browser context of its own: a context shares six connections per host, and
    // the pages' open streams would otherwise hold back the second press until the first finished.
    const contexts = await Promise.all(
      [1, 2].map(async () => browser.newContext({ storageState: await owner.context.storageState() })),
    );
    const recorder = await contexts[0]!.newPage();
    await recorder.goto(boardUrl());
    await recorder.evaluate(
      ({ url, id }) =>
        new Promise<void>((resolve) => {
          const seen: string[] = [];
          (window as unknown as { seen: string[] }).seen = seen;
          const source = new EventSource(url);
          source.addEventListener("board", (e) => {
            const status = (JSON.parse(e.data) as { id: string; status: string }[]).find((c) => c.id === id)?.status;
            if (status && seen.at(-1) !== status) seen.push(status);
            resolve();
          });
        }),
      { url: `/api/projects/${projectId}/ideas/stream`, id: idea!.id },
    );
    const seen = () => recorder.evaluate(() => (window as unknown as { seen: string[] }).seen);

    // Two pages press Execute at the same moment.
    const ideaUrl = `${boardUrl()}/${idea!.id}`;
    const second = await contexts[1]!.newPage();
    await Promise.all([page.goto(ideaUrl), second.goto(ideaUrl)]);
    const buttons = [page, second].map((p) => p.getByTestId("idea-execute").getByRole("button", { name: "Execute" }));
    // Both pages are hydrated (their live stream is open), so each press runs the server action.
    await Promise.all(
      [page, second].map((p) =>
        p.locator('[data-testid="idea-stream"][data-state="live"]').waitFor({ state: "attached" }),
      ),
    );
    await Promise.all(buttons.map((b) => b.waitFor()));
    await Promise.all(buttons.map((b) => b.click()));
    // Each page shows the answer to its own press: one queued the task, the other was refused.
    const answers = await Promise.all(
      [page, second].map(async (p) => {
        const answer = p.getByTestId("idea-execute").locator("form").locator('[role="alert"], [role="status"]');
        await answer.waitFor();
        return (await answer.textContent()) ?? "";
      }),
    );
    expect(answers.map((a) => (/queued/.test(a) ? "queued" : a)).sort()).toEqual([
      "This idea is already executing",
      "queued",
    ]);
    const runs = await db.query.tasks.findMany({ where: eq(tasks.sourceIdeaId, idea!.id) });
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.mode).toBe("task");
    expect(run.description).toContain("Write the notes index");
    expect(run.description).toContain("Create index.md listing the notes.");
    expect(run.description).toContain("the index came up here");
    await contexts[1]!.close();

    // The task completes with its work in a PR: the idea stays executing until the PR merges, then
    // the page follows it live to done with the task's branch.
    const completed = await waitForTask(api, run.id, (t) => t.status === "completed", 90_000);
    const withPr = await waitForTask(api, run.id, (t) => Boolean((t as { pullRequest?: unknown }).pullRequest));
    expect(await seen()).toEqual(["draft", "executing"]);
    const pullRequest = (withPr as unknown as { pullRequest: { id: string; state: string } }).pullRequest;
    expect(pullRequest.state).toBe("open");
    const merged = await api.post<{ state: string }>(`/api/pulls/${pullRequest.id}/merge`, {});
    expect(merged).toMatchObject({ status: 200, body: { state: "merged" } });
    await page.locator('[data-testid="idea-status"] [data-idea-status="done"]').waitFor({ timeout: 90_000 });
    await expect.poll(seen).toEqual(["draft", "executing", "done"]);
    await contexts[0]!.close();
    expect(await page.getByTestId("idea-tasks").locator(`[data-task-id="${run.id}"]`).count()).toBe(1);
    const branch = (await page.getByTestId("idea-task-branch").textContent())?.trim() ?? "";
    expect(branch).toMatch(/^sam\/write-the-notes-index-[0-9a-f]{8}$/);
    expect(branch).toBe(completed.branch);
    // Merged into main; the branch itself was deleted after the merge (the project's default).
    expect(git(repo, "show", "main:index.md")).toBe("# Notes");
    await page.getByTestId("idea-tasks").locator('[data-status="completed"]').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "ideas-detail.png"), fullPage: true });

    await page.goto(boardUrl());
    await column(page, "done").getByTestId("idea-card").filter({ hasText: "Write the notes index" }).waitFor();
    await page.locator('[data-testid="board-stream"][data-state="live"]').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "ideas-board.png"), fullPage: true });
  });

  it("returns an idea to ready with the failure shown when its task fails", async () => {
    const { page } = owner;
    const idea = await db.query.ideas.findFirst({ where: eq(ideas.title, "Idea one") });
    await page.goto(`${boardUrl()}/${idea!.id}`);
    // Edited on its page: a script the scripted model cannot parse makes the task fail.
    const form = page.getByRole("form", { name: "Edit idea" });
    await form.getByLabel(/^Content/).fill("Tag notes.\n\n```sam-script\nthis is not JSON\n```\n");
    await form.getByRole("button", { name: "Save idea" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.getByTestId("idea-execute").getByRole("button", { name: "Execute" }).click();
    await page.getByTestId("idea-execute").getByRole("status").filter({ hasText: "queued" }).waitFor();

    const failure = page.getByTestId("idea-failure");
    await failure.waitFor({ timeout: 90_000 });
    expect(await failure.textContent()).toMatch(/The last run failed: .*sam-script/);
    expect(await page.locator('[data-testid="idea-status"] [data-idea-status="ready"]').count()).toBe(1);
    const [run] = await db.query.tasks.findMany({ where: eq(tasks.sourceIdeaId, idea!.id) });
    expect(run?.status).toBe("failed");

    await page.goto(boardUrl());
    await column(page, "ready")
      .getByTestId("idea-card")
      .filter({ hasText: "Idea one" })
      .getByTestId("idea-last-failure")
      .waitFor();
  });

  it("finds cards with the search box and the priority filter", async () => {
    const { page } = owner;
    await page.goto(boardUrl());
    await page.getByLabel("Search ideas").fill("sync notes");
    await expect.poll(() => page.getByTestId("idea-card").count()).toBe(1);
    await card(page, "Shared idea").waitFor();
    await page.getByLabel("Search ideas").fill("");
    await page.getByLabel("Filter by priority").selectOption("3");
    await expect
      .poll(() => page.getByTestId("idea-card").allTextContents())
      .toEqual([expect.stringContaining("Idea two")]);
  });

  it("an idea card previews text without markdown fences", async () => {
    const board = new IdeaBoard(owner.page, app.baseUrl);
    await board.open(projectId);
    await board.addIdea(
      "Formatted idea",
      "# Plan\n\nKeep **bold** words and [a link](https://example.com).\n\n```js\nconst x = 1;\n```\n",
    );
    await board.card("Formatted idea", "draft").waitFor();
    const preview = await board.preview("Formatted idea");
    expect(preview).toBe("Plan Keep bold words and a link. const x = 1;");
    for (const mark of ["```", "#", "**", "](", "https://"]) expect(preview).not.toContain(mark);
  });

  it("a refused new-idea form keeps the typed values and names the field", async () => {
    const board = new IdeaBoard(owner.page, app.baseUrl);
    await board.open(projectId);
    const form = await board.addIdea("   ", "Details worth keeping");
    await form.getByRole("alert").filter({ hasText: "The title is empty" }).waitFor();
    expect(await form.getByLabel("Title").inputValue()).toBe("   ");
    expect(await form.getByLabel(/^Details/).inputValue()).toBe("Details worth keeping");
    expect(await form.getByRole("alert").allTextContents()).toEqual(["The title is empty"]);
  });

  it("dragging a card by its body moves it to another column", async () => {
    const board = new IdeaBoard(owner.page, app.baseUrl);
    await board.open(projectId);
    await board.drag(board.card("Formatted idea").getByTestId("idea-preview"), board.column("parked"));
    await board.card("Formatted idea", "parked").waitFor();
    await waitForIdeaStatus("Formatted idea", "parked");
    // Released over the card's own title, the drag did not open the idea.
    expect(owner.page.url()).toBe(boardUrl());

    // A click on the title still opens it.
    await board.card("Formatted idea").getByRole("link", { name: "Formatted idea" }).click();
    await owner.page.waitForURL(/\/ideas\/[0-9a-f-]{36}$/);
  });

  it("announces a keyboard drag with the idea's title and the columns' names, never ids", async () => {
    const board = new IdeaBoard(owner.page, app.baseUrl);
    await board.open(projectId);
    const idea = await db.query.ideas.findFirst({ where: eq(ideas.title, "Formatted idea") });
    await board.grip("Formatted idea").focus();
    await owner.page.keyboard.press("Space");
    await board.announced("Picked up Formatted idea.");
    await owner.page.evaluate(
      () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(null)))),
    );
    await owner.page.keyboard.press("ArrowLeft");
    await board.announced(/^Formatted idea (is over|cannot go to) (Draft|Exploring|Ready|Executing|Done|Parked)/);
    await owner.page.keyboard.press("Escape");
    await board.announced("Moving Formatted idea was cancelled");
    expect(await board.announcement().textContent()).not.toContain(idea!.id);
    await waitForIdeaStatus("Formatted idea", "parked");
  });

  it("the board scrolls sideways inside itself: the page is no wider than a 390 px screen", async () => {
    const phone = await browser.newContext({
      storageState: await owner.context.storageState(),
      viewport: { width: 390, height: 844 },
    });
    try {
      const page = await phone.newPage();
      const board = new IdeaBoard(page, app.baseUrl);
      await board.open(projectId);
      const widths = await page.evaluate(() => {
        const doc = document.scrollingElement ?? document.documentElement;
        const strip = document.querySelector('[data-testid="idea-columns"]')!;
        return { page: doc.scrollWidth, strip: strip.scrollWidth, stripShown: strip.clientWidth };
      });
      expect(widths.page).toBeLessThanOrEqual(390);
      expect(widths.strip).toBeGreaterThan(widths.stripShown);
    } finally {
      await phone.close();
    }
  });

  it("the idea page shows a change made through the API without reload, keeping a field being edited", async () => {
    const { page } = owner;
    const idea = await db.query.ideas.findFirst({ where: eq(ideas.title, "Formatted idea") });
    const ideaPage = new IdeaPage(page, app.baseUrl);
    await ideaPage.open(projectId, idea!.id);
    await page.evaluate(() => {
      (window as unknown as { stayedOnPage: boolean }).stayedOnPage = true;
    });
    // The user is editing the content when an agent changes the idea.
    await ideaPage.field("Content").fill("My own words, half written");
    const token = await mintTaskToken(db, firstTaskId);
    // The task it becomes lasts long enough for this page to see it executing, however slow the machine.
    const content = scriptPrompt("Changed by the agent.", [{ say: "Nothing to build." }, { sleep: 8000 }]);
    await callToolOk(app.baseUrl, token, "update_idea", {
      ideaId: idea!.id,
      title: "Renamed by the agent",
      priority: 1,
      content,
    });
    await expect.poll(() => ideaPage.field("Title").inputValue(), { timeout: 20_000 }).toBe("Renamed by the agent");
    expect(await ideaPage.field("Priority").inputValue()).toBe("1");
    await page.getByRole("heading", { name: "Renamed by the agent" }).waitFor();
    // The field being edited keeps what the user typed and says it changed elsewhere.
    expect(await ideaPage.field("Content").inputValue()).toBe("My own words, half written");
    await ideaPage.changedElsewhere("content").waitFor();
    expect(await ideaPage.changedElsewhere("title").count()).toBe(0);
    await ideaPage.changedElsewhere("content").getByRole("button", { name: "Use the new version" }).click();
    expect(await ideaPage.field("Content").inputValue()).toBe(content);
    await ideaPage.changedElsewhere("content").waitFor({ state: "detached" });

    // A refused save keeps what was typed, with one message by the field.
    await ideaPage.field("Title").fill("   ");
    await ideaPage.save();
    await ideaPage.form().getByRole("alert").filter({ hasText: "The title is empty" }).waitFor();
    expect(await ideaPage.field("Title").inputValue()).toBe("   ");
    expect(await ideaPage.alerts()).toEqual(["The title is empty"]);
    await ideaPage.field("Title").fill("Renamed by the agent");

    // Executed from another tab: Execute here turns into "Executing…"; the script only talks, so the
    // task changes nothing and the idea is back to ready, saying so.
    const other = await browser.newContext({ storageState: await owner.context.storageState() });
    try {
      const tab = await other.newPage();
      const otherPage = new IdeaPage(tab, app.baseUrl);
      await otherPage.open(projectId, idea!.id);
      await otherPage.executeButton().click();
      await tab.getByTestId("idea-execute").getByRole("status").filter({ hasText: "queued" }).waitFor();
    } finally {
      await other.close();
    }
    await ideaPage.executeButton().filter({ hasText: "Executing…" }).waitFor({ timeout: 20_000 });
    expect(await ideaPage.executeButton().isDisabled()).toBe(true);
    await ideaPage.status("ready").waitFor({ timeout: 90_000 });
    await page.getByTestId("idea-unchanged").waitFor();
    await ideaPage.executeButton().filter({ hasText: "Execute again" }).waitFor();
    expect(await ideaPage.executeButton().isDisabled()).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { stayedOnPage?: boolean }).stayedOnPage)).toBe(true);
  });

  it("gives a non-member 404 for the board, an idea's page and the board stream", async () => {
    const link = await mintLoginLink(app, "stranger@example.com");
    const stranger = await signInWithLink(browser, link, app.baseUrl);
    try {
      for (const url of [boardUrl(), `${boardUrl()}/${sharedIdeaId}`]) {
        const res = await stranger.page.goto(url);
        expect(res?.status()).toBe(404);
        expect(await stranger.page.content()).not.toContain("Shared idea");
      }
      const stream = await stranger.context.request.get(`${app.baseUrl}/api/projects/${projectId}/ideas/stream`);
      expect(stream.status()).toBe(404);
    } finally {
      await stranger.context.close();
    }
  });
});
