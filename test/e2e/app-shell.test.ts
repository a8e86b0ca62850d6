import fs from "node:fs";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_PROMPTS } from "@/components/chat/example-prompts";
import { chatSessions, tasks } from "@/db/schema";
import { createIdea } from "@/lib/ideas/ideas";
import { ensureInstanceOwner } from "@/lib/users";
import { until } from "../../agent-daemon/test/fake-web";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { seriousAxeViolations } from "../helpers/axe";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { seedTranscript } from "../helpers/seed-transcript";
import { makeTempDir } from "../helpers/temp-dir";
import { AppShell } from "../pages/app-shell";

const SCREENSHOTS = path.resolve("test-results/screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describe("the application shell", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  const repos = makeTempDir("sam-shell-repos-");
  let projectId: string;
  /** The dispatch example: a parent and its three subtasks, all finished. */
  const family = { parent: "", parentSession: "", children: [] as { id: string; title: string }[] };
  /** A session with a 200-message transcript. */
  let longSession = "";
  let ideaId = "";

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    [app, browser] = await Promise.all([startAppServer({ env: { SAM_TICK_MS: "200" } }), launchBrowser()]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "shell"), { files: { "README.md": "# Shell\n" } }),
    });
    expect(created.status).toBe(201);
    projectId = created.body.id;

    const dispatch = EXAMPLE_PROMPTS.find((e) => e.label.startsWith("Dispatch subtasks"))!;
    const parent = await api.post<{ id: string }>("/api/tasks", { projectId, prompt: dispatch.text, mode: "task" });
    const long = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      title: "A long discussion",
      prompt: scriptPrompt("Start a long discussion.", [{ say: "Here." }]),
      mode: "task",
    });
    family.parent = parent.body.id;
    const db = openAppDb(app);
    try {
      await waitForTask(api, long.body.id, isTerminal, 90_000);
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, long.body.id) });
      longSession = session!.id;
      await seedTranscript(db, longSession, 100);
      family.parentSession = (await db.query.chatSessions.findFirst({
        where: eq(chatSessions.taskId, family.parent),
      }))!.id;
      await until(async () => {
        const children = await db.query.tasks.findMany({ where: eq(tasks.parentId, family.parent) });
        family.children = children.map((c) => ({ id: c.id, title: c.title }));
        return children.length === 3 && children.every((c) => c.status === "completed");
      }, 90_000);
      const ownerId = (await ensureInstanceOwner(db)).id;
      ideaId = (
        await createIdea(
          db,
          projectId,
          { kind: "user", userId: ownerId },
          {
            title: "Cache the sidebar",
            content: "Keep the **last page** in memory.\n\n```ts\nconst cache = new Map();\n```",
          },
        )
      ).id;
      // The parent waits for its subtasks, then completes on the turn their last end wakes.
      await until(
        async () =>
          (await db.query.tasks.findFirst({
            where: and(eq(tasks.id, family.parent), eq(tasks.status, "completed")),
          })) !== undefined,
        90_000,
      );
    } finally {
      db.$client.close();
    }
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  /** Opens a page of the app and waits until it is hydrated (a project's sidebar is live). */
  async function open(page: Page, route: string): Promise<void> {
    await page.goto(`${app.baseUrl}${route}`);
    if (route.startsWith(`/projects/${projectId}`)) {
      await page.locator('[data-testid="sidebar-stream-state"][data-state="live"]').waitFor({ state: "attached" });
    }
  }

  const child = (title: string) => family.children.find((c) => c.title.startsWith(title))!;

  /** Every main page, by name. */
  const pages = () => ({
    projects: "/projects",
    "new-chat": `/projects/${projectId}`,
    session: `/projects/${projectId}/sessions/${family.parentSession}`,
    task: `/projects/${projectId}/tasks/${child("Build the API").id}`,
    ideas: `/projects/${projectId}/ideas`,
    idea: `/projects/${projectId}/ideas/${ideaId}`,
    settings: `/projects/${projectId}/settings`,
    account: "/account",
  });

  it("at 1280×800 the header and rail stay in place while a 200-message transcript scrolls", async () => {
    const { page } = owner;
    const shell = new AppShell(page);
    await page.setViewportSize(DESKTOP);
    await open(page, `/projects/${projectId}/sessions/${longSession}`);
    await page.getByText("Answer 100: part 100 is fine.").waitFor();
    const headerTop = await shell.top(shell.header());
    const railTop = await shell.top(shell.rail());
    // The newest message is in view when the session opens.
    expect(await page.getByText("Answer 100: part 100 is fine.").isVisible()).toBe(true);

    // Scrolled up to its start, earlier messages appearing as the top is reached.
    await shell.scrollTranscriptToStart("Question 1: what about part 1?");
    expect(await page.getByTestId("show-earlier-messages").count()).toBe(0);
    expect(await page.locator('[data-testid="chat-messages"] > li').count()).toBeGreaterThanOrEqual(200);
    expect(await shell.top(shell.header())).toBe(headerTop);
    expect(await shell.top(shell.rail())).toBe(railTop);
    expect((await shell.documentScroll()).top).toBe(0);
    // The composer stays at the bottom of the screen, whatever the transcript's scroll.
    const composer = await page.getByRole("textbox", { name: /message/i }).boundingBox();
    expect(composer!.y + composer!.height).toBeLessThanOrEqual(DESKTOP.height);
    expect(await shell.scrollTranscript(1)).toBeGreaterThan(5_000);
    expect(await shell.top(shell.header())).toBe(headerTop);
  });

  it("the palette opens with Ctrl-K and jumps to a task", async () => {
    const { page } = owner;
    const shell = new AppShell(page);
    await page.setViewportSize(DESKTOP);
    await open(page, `/projects/${projectId}/sessions/${longSession}`);
    await shell.openPalette();
    const results = await shell.search("build the api");
    const first = results.getByTestId("palette-result").first();
    expect(await first.getAttribute("data-kind")).toBe("task");
    await page.keyboard.press("Enter");
    const target = child("Build the API");
    await page.waitForURL(`${app.baseUrl}/projects/${projectId}/tasks/${target.id}`);
    await page.getByRole("heading", { name: target.title }).waitFor();
    expect(await shell.palette().count()).toBe(0);
  });

  it("New chat works from inside a session, by its button and by the `c` key", async () => {
    const { page } = owner;
    const shell = new AppShell(page);
    await page.setViewportSize(DESKTOP);
    await open(page, `/projects/${projectId}/sessions/${family.parentSession}`);
    await shell.newChat();
    await page.waitForURL(`${app.baseUrl}/projects/${projectId}`);
    await page.getByRole("heading", { name: "New chat" }).waitFor();
    expect(await page.getByTestId("chat-messages").locator("li").count()).toBe(0);

    await open(page, `/projects/${projectId}/sessions/${longSession}`);
    await page.locator("body").press("c");
    await page.getByRole("heading", { name: "New chat" }).waitFor();
    expect(page.url()).toBe(`${app.baseUrl}/projects/${projectId}`);
  });

  it("a subtask opened from the sidebar shows in the right panel beside the chat; Esc closes it; its URL is the full page", async () => {
    const { page } = owner;
    const shell = new AppShell(page);
    await page.setViewportSize(DESKTOP);
    const sessionUrl = `${app.baseUrl}/projects/${projectId}/sessions/${family.parentSession}`;
    await open(page, `/projects/${projectId}/sessions/${family.parentSession}`);
    const group = page.locator(`[data-testid="task-group"][data-task-id="${family.parent}"]`);
    await group.getByRole("button", { name: /^Show 3 subtasks/ }).click();
    const target = child("Write the data model");
    await group.locator(`[data-testid="child-task"][data-task-id="${target.id}"] a`).click();
    await shell.taskPanel().getByRole("heading", { name: target.title }).waitFor();
    expect(page.url()).toBe(`${app.baseUrl}/projects/${projectId}/tasks/${target.id}`);
    // The chat is still there, beside the panel.
    expect(await page.getByTestId("chat-view").isVisible()).toBe(true);

    await page.keyboard.press("Escape");
    await shell.taskPanel().waitFor({ state: "detached" });
    expect(page.url()).toBe(sessionUrl);

    await open(page, `/projects/${projectId}/tasks/${target.id}`);
    await page.getByRole("heading", { name: target.title }).waitFor();
    expect(await shell.taskPanel().count()).toBe(0);
    expect(await page.getByTestId("chat-view").count()).toBe(0);
  });

  it("`/` focuses the session search, which narrows the sidebar to matching sessions", async () => {
    const { page } = owner;
    await page.setViewportSize(DESKTOP);
    await open(page, `/projects/${projectId}`);
    await page.locator("body").press("/");
    const search = page.getByTestId("session-search");
    expect(await search.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type("build the api");
    const groups = page.getByTestId("task-group");
    await until(async () => (await groups.count()) === 1, 10_000);
    expect(await groups.first().getAttribute("data-task-id")).toBe(family.parent);
    await search.fill("");
    await until(async () => (await groups.count()) === 2, 10_000);
  });

  it("at 390×844 no page is wider than the screen, the rail is a drawer, and the composer is reachable", async () => {
    const { page } = owner;
    const shell = new AppShell(page);
    await page.setViewportSize(PHONE);
    for (const [name, route] of Object.entries(pages())) {
      await open(page, route);
      expect({ name, overflowX: (await shell.documentScroll()).overflowX }).toEqual({ name, overflowX: 0 });
    }
    await open(page, `/projects/${projectId}/sessions/${longSession}`);
    expect(await shell.rail().isVisible()).toBe(false);
    const composer = await page.getByRole("textbox", { name: /message/i }).boundingBox();
    expect(composer!.y + composer!.height).toBeLessThanOrEqual(PHONE.height);
    await shell.openDrawer();
    await shell.rail().getByRole("link", { name: "Ideas" }).click();
    await page.waitForURL(`${app.baseUrl}/projects/${projectId}/ideas`);
    await page.locator('[data-testid="project-rail"][data-open="false"]').waitFor({ state: "attached" });
  });

  it("no main page has a serious or critical accessibility violation, light or dark; screenshots of each", async () => {
    const { page } = owner;
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const viewport of [DESKTOP, PHONE]) {
        await page.setViewportSize(viewport);
        for (const [name, route] of Object.entries(pages())) {
          await open(page, route);
          if (viewport === DESKTOP) {
            expect({ name, scheme, violations: await seriousAxeViolations(page) }).toEqual({
              name,
              scheme,
              violations: [],
            });
          }
          await page.screenshot({
            path: path.join(SCREENSHOTS, `${name}-${viewport.width}x${viewport.height}-${scheme}.png`),
          });
        }
      }
    }
    await page.emulateMedia({ colorScheme: "light" });
  });
});
