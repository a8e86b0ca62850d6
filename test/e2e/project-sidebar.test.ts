import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { tasks } from "@/db/schema";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, openAppDb, ownerApi, type TaskView, waitForTask } from "../helpers/api";
import { type AppServer, killLocalDaemons, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { createProject, createRootTask } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";

const CRON_SECRET = "cron-secret-for-the-sidebar-test-0123456789";
const SCREENSHOTS = path.resolve("test-results/screenshots");

/**
 * A prompt whose sam-script the scripted model plays; backticks inside the steps are JSON escapes,
 * so a step can carry a child's description with its own script.
 */
function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

const groupCard = (page: Page, taskId: string) => page.locator(`[data-testid="task-group"][data-task-id="${taskId}"]`);
const childRow = (group: Locator, taskId: string) =>
  group.locator(`[data-testid="child-task"][data-task-id="${taskId}"]`);

describe("the project sidebar: grouped, live from stored changes, filtered and paged", () => {
  const repos = makeTempDir("sam-sidebar-repos-");
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  let db: Db;
  let ownerId: string;

  // The scheduler is off: tasks move only on the test's scheduling passes (the cron route) or its
  // own transitions, so each state the test looks for holds until the test moves on.
  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_SCHEDULER: "off", CRON_SECRET, SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    db = openAppDb(app);
    ownerId = (await ensureInstanceOwner(db)).id;
  });
  afterAll(async () => {
    db?.$client.close();
    await browser?.close();
    const dataDir = app?.dataDir;
    await app?.stop();
    if (dataDir) killLocalDaemons(dataDir);
    repos.cleanup();
  });

  const newProject = (name: string) =>
    createProject(api, makeGitRepo(path.join(repos.dir, name), { files: { "README.md": `# ${name}\n` } }));

  /** Runs scheduling passes until the task reaches a state `done` accepts. */
  async function scheduleUntil(taskId: string, done: (t: TaskView) => boolean): Promise<TaskView> {
    const ticking = { on: true };
    const ticks = (async () => {
      while (ticking.on) {
        const res = await fetch(`${app.baseUrl}/api/cron/tick`, {
          method: "POST",
          headers: { authorization: `Bearer ${CRON_SECRET}` },
        });
        expect(res.status).toBe(200);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      return await waitForTask(api, taskId, done, 90_000);
    } finally {
      ticking.on = false;
      await ticks;
    }
  }

  const childrenOf = (parentId: string) =>
    db.query.tasks.findMany({ where: eq(tasks.parentId, parentId), orderBy: (t, { asc }) => asc(t.createdAt) });

  it("a parent's three subtasks show as '3 SUB'; the dependent one is BLOCKED until its dependency completes; progress reaches 3/3", async () => {
    const projectId = await newProject("story");
    const child = (title: string) => script(`${title}.`, [{ say: `${title}: done.` }]);
    const parentId = await createRootTask(
      api,
      projectId,
      script("Plan the feature.", [{ say: "Ready." }]),
      "conversation",
    );
    const { page } = owner;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    const group = groupCard(page, parentId);
    await group.waitFor();
    expect(await group.getByTestId("sub-count").count()).toBe(0);

    // The parent starts; then, with no scheduling passes running, its next turn dispatches three
    // children, which stay queued until the test schedules again.
    await scheduleUntil(parentId, (t) => t.status === "awaiting_followup");
    const sent = await api.post(`/api/tasks/${parentId}/messages`, {
      text: script("Split the feature into subtasks.", [
        { tool: "dispatch_task", args: { title: "Design the schema", description: child("Design the schema") } },
        { tool: "dispatch_task", args: { title: "Write the docs", description: child("Write the docs") } },
        {
          tool: "dispatch_task",
          args: { title: "Build the API", description: child("Build the API"), dependsOn: ["{{1.taskId}}"] },
        },
        { say: "Three subtasks are on their way." },
      ]),
    });
    expect(sent.status).toBe(200);
    let children = await childrenOf(parentId);
    for (const deadline = Date.now() + 60_000; children.length < 3 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 150));
      children = await childrenOf(parentId);
    }
    const [schema, docs, apiTask] = children;
    expect(children.map((c) => [c.title, c.status])).toEqual([
      ["Design the schema", "queued"],
      ["Write the docs", "queued"],
      ["Build the API", "queued"],
    ]);

    await group.getByTestId("sub-count").filter({ hasText: "3 SUB" }).waitFor();
    await group.getByTestId("group-progress").filter({ hasText: "0/3 completed" }).waitFor();
    await group.getByRole("button", { name: "Show 3 subtasks" }).click();
    const blocked = childRow(group, apiTask!.id).getByTestId("blocked-badge");
    await blocked.filter({ hasText: "BLOCKED: Waiting on Design the schema" }).waitFor();
    expect(await childRow(group, schema!.id).getByTestId("blocked-badge").count()).toBe(0);
    expect(await group.getAttribute("data-state")).toBe("blocked");

    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, "sidebar-1280x800.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SCREENSHOTS, "sidebar-390x844.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // The dependency completes on its daemon: the badge goes, and the dependent runs in turn.
    await scheduleUntil(schema!.id, (t) => t.status === "completed");
    await childRow(group, schema!.id).and(page.locator('[data-status="completed"]')).waitFor();
    await blocked.waitFor({ state: "detached" });
    for (const { id } of [docs!, apiTask!]) await scheduleUntil(id, (t) => t.status === "completed");
    await group.getByTestId("group-progress").filter({ hasText: "3/3 completed" }).waitFor();
    expect(await group.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("3");
  });

  it("the state filter shows only failed, done or active groups, and a group that fails joins the Failed view live", async () => {
    const projectId = await newProject("filters");
    const move = async (taskId: string, ...path: ("provisioning" | "running" | "completed" | "failed")[]) => {
      let from = (await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) }))!.status;
      for (const to of path) {
        const set = to === "failed" ? { failureReason: "the tests failed" } : undefined;
        expect(await transitionTask(db, { taskId, from: [from], to, actor: { kind: "system" }, set })).toBe(true);
        from = to;
      }
    };
    const root = async (prompt: string) => (await createTask(db, ownerId, { projectId, prompt })).id;
    const healthy = await root("Healthy work");
    const broken = await root("Work with a broken part");
    const brokenChild = (
      await dispatchTask(db, { taskId: broken, projectId }, { title: "Fragile part", description: "Fragile part" })
    ).taskId;
    await move(brokenChild, "failed");
    const finished = await root("Finished work");
    await move(finished, "provisioning", "running", "completed");

    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    const sidebar = page.getByTestId("project-sidebar");
    const shownGroups = () => sidebar.getByTestId("task-group").evaluateAll((els) => els.map((e) => e.dataset.taskId));
    await groupCard(page, healthy).waitFor();
    expect(await shownGroups()).toEqual([finished, broken, healthy]);

    const filter = (name: string) => sidebar.getByRole("button", { name: new RegExp(`^${name}`) });
    await expect(filter("Failed").textContent()).resolves.toBe("Failed1");
    await filter("Failed").click();
    await sidebar.locator('[data-filter="failed"][aria-pressed="true"]').waitFor();
    await groupCard(page, healthy).waitFor({ state: "detached" });
    expect(await shownGroups()).toEqual([broken]);
    expect(await groupCard(page, broken).getAttribute("data-state")).toBe("failed");

    // Written straight to the database, as another instance would: the app's poll finds it.
    const healthyChild = (
      await dispatchTask(db, { taskId: healthy, projectId }, { title: "Flaky part", description: "Flaky part" })
    ).taskId;
    await move(healthyChild, "failed");
    await groupCard(page, healthy).waitFor();
    expect(await shownGroups()).toEqual([broken, healthy]);
    await filter("Failed").filter({ hasText: "Failed2" }).waitFor();

    await filter("Done").click();
    await groupCard(page, broken).waitFor({ state: "detached" });
    expect(await shownGroups()).toEqual([finished]);
    await filter("Active").click();
    await groupCard(page, finished).waitFor({ state: "detached" });
    expect(await shownGroups()).toEqual([broken, healthy]);
    await filter("All").click();
    await groupCard(page, finished).waitFor();
    expect(await shownGroups()).toEqual([finished, broken, healthy]);
  });

  it("shows 30 sessions at first and the rest, oldest last, after Load more", async () => {
    const projectId = await newProject("paging");
    const ids: string[] = [];
    for (let i = 1; i <= 34; i++) ids.push((await createTask(db, ownerId, { projectId, prompt: `Session ${i}` })).id);

    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    const sidebar = page.getByTestId("project-sidebar");
    await groupCard(page, ids.at(-1)!).waitFor();
    expect(await sidebar.getByTestId("task-group").count()).toBe(30);
    expect(await groupCard(page, ids[0]!).count()).toBe(0);

    await sidebar.getByRole("button", { name: "Load more" }).click();
    await groupCard(page, ids[0]!).waitFor();
    const shown = await sidebar.getByTestId("task-group").evaluateAll((els) => els.map((e) => e.dataset.taskId));
    expect(shown).toEqual([...ids].reverse());
    expect(await sidebar.getByRole("button", { name: "Load more" }).count()).toBe(0);
  });

  it("gives a non-member 404 for the sidebar's page and stream routes", async () => {
    const projectId = await newProject("private");
    await createRootTask(api, projectId, "Secret work");
    const outsider = await signInWithLink(browser, await mintLoginLink(app, "outsider@example.com"), app.baseUrl);
    try {
      for (const route of [`/api/projects/${projectId}/tasks`, `/api/projects/${projectId}/tasks/stream`]) {
        const res = await outsider.context.request.get(`${app.baseUrl}${route}`);
        expect(res.status(), route).toBe(404);
        const body = await res.text();
        expect(JSON.parse(body).error.code).toBe("not_found");
        expect(body).not.toContain("Secret work");
      }
      const pageRes = await outsider.page.goto(`${app.baseUrl}/projects/${projectId}`);
      expect(pageRes?.status()).toBe(404);
      expect(await outsider.page.content()).not.toContain("Secret work");
    } finally {
      await outsider.context.close();
    }
  });
});
