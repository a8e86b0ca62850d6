import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { tasks } from "@/db/schema";
import type { TaskGraph } from "@/lib/graph/types";
import { ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, openAppDb, ownerApi } from "../helpers/api";
import { type AppServer, killLocalDaemons, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { createProject, createRootTask } from "../helpers/mcp";
import { seedTaskTree } from "../helpers/seed-task-tree";
import { makeTempDir } from "../helpers/temp-dir";
import { TaskGraphPage } from "../pages/task-graph-page";

const CRON_SECRET = "cron-secret-for-the-graph-test-0123456789";
const SCREENSHOTS = path.resolve("test-results/screenshots");

/**
 * A prompt whose sam-script the scripted model plays; backticks inside the steps are JSON escapes,
 * so a step can carry a child's description with its own script.
 */
function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

/** A step dispatching a scripted child; the child's own `{{N.…}}` references are left for the child to fill. */
const dispatch = (title: string, steps: unknown[], dependsOn: string[] = []) => ({
  tool: "dispatch_task",
  args: {
    title,
    description: script(title, steps).replaceAll("{{", "\\u007b\\u007b"),
    ...(dependsOn.length > 0 ? { dependsOn } : {}),
  },
});

describe("the task graph: a root task's tree, live, laid out, on a desktop and a phone", () => {
  const repos = makeTempDir("sam-graph-repos-");
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  let db: Db;

  // The scheduler is off: tasks move only on the test's scheduling passes (the cron route), so a
  // seeded tree stays as seeded.
  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_SCHEDULER: "off", CRON_SECRET, SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    db = openAppDb(app);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
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

  /** Runs scheduling passes until `done` holds. */
  async function scheduleUntil(done: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${app.baseUrl}/api/cron/tick`, {
        method: "POST",
        headers: { authorization: `Bearer ${CRON_SECRET}` },
      });
      expect(res.status).toBe(200);
      if (await done()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    const seen = await db
      .select({ title: tasks.title, status: tasks.status, failure: tasks.failureReason })
      .from(tasks);
    throw new Error(`Timed out waiting for ${what}; the tasks: ${JSON.stringify(seen)}`);
  }

  const taskByTitle = async (title: string) => db.query.tasks.findFirst({ where: eq(tasks.title, title) });

  let projectId: string;
  let rootId: string;
  const ids: Record<string, string> = {};

  it("shows a 3-level tree made by real dispatch as it grows: every task, subtask links solid, the dependency dashed and highlighted while it blocks", async () => {
    projectId = await newProject("graph");
    rootId = await createRootTask(
      api,
      projectId,
      script("Ship the feature.", [
        // Three minutes of work (a step sleeps at most one): the test stops it long before.
        dispatch("Write the schema", [
          { say: "Working on the schema." },
          { sleep: 60_000 },
          { sleep: 60_000 },
          { sleep: 60_000 },
        ]),
        dispatch("Build the API", [{ say: "API built." }], ["{{1.taskId}}"]),
        dispatch("Plan the docs", [dispatch("Write the guide", [{ say: "Guide written." }]), { say: "Docs planned." }]),
        { say: "Three subtasks are on their way." },
      ]),
    );
    const graph = new TaskGraphPage(owner.page, app.baseUrl, projectId);
    await graph.page.setViewportSize({ width: 1280, height: 800 });
    // Opened while the root is the only task: everything after arrives over the stream.
    await graph.open(rootId);
    await expect(graph.nodes.count()).resolves.toBe(1);
    const queuedColour = await graph.colourOf(rootId);

    await scheduleUntil(async () => {
      const schema = await taskByTitle("Write the schema");
      const guide = await taskByTitle("Write the guide");
      return schema?.status === "running" && guide !== undefined;
    }, "the schema task to run and the guide task to be dispatched");
    for (const title of ["Write the schema", "Build the API", "Plan the docs", "Write the guide"]) {
      ids[title] = (await taskByTitle(title))!.id;
    }

    // The new tasks appear and the root's card is recoloured, without a reload.
    for (const id of Object.values(ids)) await graph.node(id).waitFor();
    await expect(graph.nodes.count()).resolves.toBe(5);
    await graph.page.waitForFunction(
      ([id, colour]) => {
        const card = document.querySelector(`[data-testid="graph-node"][data-task-id="${id}"]`);
        return (
          card && card.getAttribute("data-status") !== "queued" && getComputedStyle(card).backgroundColor !== colour
        );
      },
      [rootId, queuedColour] as const,
    );

    // Four subtask links (root → 3, docs → guide) and the one dependency: API waits on schema.
    await graph.blockingLinks.first().waitFor({ state: "attached" });
    await expect(graph.subtaskLinks.count()).resolves.toBe(4);
    await expect(graph.dependencyLinks.count()).resolves.toBe(1);
    await expect(graph.blockingLinks.count()).resolves.toBe(1);
    const subtask = await graph.strokeOf(graph.subtaskLinks.first());
    const blocking = await graph.strokeOf(graph.blockingLinks.first());
    expect(subtask.dashes).toBe("none");
    expect(blocking.dashes).not.toBe("none");
    expect(blocking.colour).not.toBe(subtask.colour);
    expect(Number.parseFloat(blocking.width)).toBeGreaterThan(Number.parseFloat(subtask.width));
    expect(blocking.length).toBeGreaterThan(20);

    // The blocked task says so; each card names its task, its status and its agent.
    const apiCard = graph.node(ids["Build the API"]!);
    await expect(apiCard.getAttribute("aria-label")).resolves.toBe("Build the API, blocked");
    await expect(apiCard.getAttribute("data-blocked")).resolves.toBe("true");
    await expect(graph.node(ids["Write the schema"]!).getAttribute("aria-label")).resolves.toBe(
      "Write the schema, running",
    );
    await expect(graph.node(ids["Write the guide"]!).textContent()).resolves.toContain("builtin · scripted");

    // The API answers the same tree for any of its tasks, naming the one asked for.
    const fromLeaf = await api.get<TaskGraph>(`/api/projects/${projectId}/tasks/${ids["Write the guide"]}/graph`);
    expect(fromLeaf.status).toBe(200);
    expect(fromLeaf.body).toMatchObject({ rootId, focusId: ids["Write the guide"] });
    expect(fromLeaf.body.tasks.map((t) => t.title).sort()).toEqual(
      ["Build the API", "Plan the docs", "Ship the feature.", "Write the guide", "Write the schema"].sort(),
    );
    expect(fromLeaf.body.dependencies).toEqual([
      { taskId: ids["Build the API"], dependsOnTaskId: ids["Write the schema"], blocking: true },
    ]);

    await graph.open(rootId);
    await graph.page.screenshot({ path: path.join(SCREENSHOTS, "task-graph-3-levels-1280x800.png") });
  });

  it("recolours a card when its task's status changes, without a reload", async () => {
    const graph = new TaskGraphPage(owner.page, app.baseUrl, projectId);
    const schemaId = ids["Write the schema"]!;
    await graph.open(schemaId);
    const running = await graph.colourOf(schemaId);
    const stopped = await api.post(`/api/tasks/${schemaId}/stop`, { graceSeconds: 0, reason: "graph test" });
    expect(stopped.status).toBe(200);
    await graph.waitForStatus(schemaId, "failed");
    expect(await graph.colourOf(schemaId)).not.toBe(running);
    await expect(graph.node(schemaId).getAttribute("aria-label")).resolves.toBe("Write the schema, failed");
  });

  it("opens a task from its card, and the task's panel leads back to the graph", async () => {
    const graph = new TaskGraphPage(owner.page, app.baseUrl, projectId);
    await graph.open(rootId);
    const guideId = ids["Write the guide"]!;
    await graph.node(guideId).click();
    await graph.page.waitForURL(`${app.baseUrl}/projects/${projectId}/tasks/${guideId}`);
    const panel = graph.page.getByRole("complementary", { name: "Task: Write the guide" });
    await panel.waitFor();
    await panel.getByTestId("task-graph-link").click();
    await graph.page.waitForURL(`${app.baseUrl}/projects/${projectId}/tasks/${guideId}/graph`);
    const inPanel = graph.page.getByRole("complementary", { name: "Task graph: Ship the feature." });
    await inPanel.locator('[data-testid="task-graph"][data-ready="true"]').waitFor();
    await expect(inPanel.getByTestId("graph-node").count()).resolves.toBe(5);
  });

  it("fits a phone: pan and zoom inside the graph, no sideways scrolling of the page", async () => {
    const graph = new TaskGraphPage(owner.page, app.baseUrl, projectId);
    await graph.page.setViewportSize({ width: 390, height: 844 });
    await graph.open(rootId);
    expect(await graph.horizontalOverflow()).toBe(0);
    await expect(graph.graph.getByRole("button", { name: "Zoom In" }).isVisible()).resolves.toBe(true);
    await graph.page.screenshot({ path: path.join(SCREENSHOTS, "task-graph-3-levels-390x844.png") });
    await graph.page.setViewportSize({ width: 1280, height: 800 });
  });

  it("lays out and renders a tree of 500 tasks", async () => {
    const bigProject = await newProject("graph-500");
    const owner500 = await ensureInstanceOwner(db);
    const tree = await seedTaskTree(db, { projectId: bigProject, userId: owner500.id, count: 500 });
    const graph = new TaskGraphPage(owner.page, app.baseUrl, bigProject);
    await graph.open(tree.ids.at(-1)!, 60_000);
    await expect(graph.graph.getAttribute("data-node-count")).resolves.toBe("500");
    await expect(graph.nodes.count()).resolves.toBe(500);
    // Every card has a place of its own.
    const placements = await graph.placements();
    expect(placements).toHaveLength(500);
    expect(new Set(placements).size).toBe(500);
    // Polled: a read of the tree the stream asks for can land just then and redraw the links.
    await expect.poll(() => graph.subtaskLinks.count()).toBe(499);
    await expect.poll(() => graph.dependencyLinks.count()).toBe(tree.dependencies);
    await graph.page.screenshot({ path: path.join(SCREENSHOTS, "task-graph-500-1280x800.png") });

    await graph.page.setViewportSize({ width: 390, height: 844 });
    await graph.open(tree.rootId, 60_000);
    expect(await graph.horizontalOverflow()).toBe(0);
    await graph.page.screenshot({ path: path.join(SCREENSHOTS, "task-graph-500-390x844.png") });
  });

  it("shows a tree only to the project's members, and no task of another project under this project's URL", async () => {
    const outsider = await signInWithLink(browser, await mintLoginLink(app, "outsider@example.com"), app.baseUrl);
    try {
      const routes = [
        `/api/projects/${projectId}/tasks/${rootId}/graph`,
        `/projects/${projectId}/tasks/${rootId}/graph`,
      ];
      for (const route of routes) {
        const res = await outsider.context.request.get(`${app.baseUrl}${route}`);
        expect(res.status(), route).toBe(404);
        const body = await res.text();
        expect(body).not.toContain("Ship the feature");
        expect(body).not.toContain("Write the schema");
      }
    } finally {
      await outsider.context.close();
    }
    // A member asking for another project's task through this project's URL finds nothing either.
    const other = await newProject("graph-other");
    const otherRoot = await createRootTask(api, other, "Another tree");
    const crossed = await api.get<{ error: { code: string } }>(`/api/projects/${projectId}/tasks/${otherRoot}/graph`);
    expect(crossed.status).toBe(404);
    expect(crossed.body.error.code).toBe("not_found");
    const tooLong = await api.get<{ error: { code: string; message: string } }>(
      `/api/projects/${projectId}/tasks/${"x".repeat(101)}/graph`,
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toContain("taskId");
  });
});
