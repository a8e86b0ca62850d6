import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudSettings } from "@/db/schema";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { createLocalUser } from "@/lib/users";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { seriousAxeViolations } from "../helpers/axe";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";
import { NodesPage } from "../pages/nodes-page";
import { TaskPage } from "../pages/task-page";

describe("the Nodes page", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  let projectId: string;
  const repos = makeTempDir("sam-nodes-page-");

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "300", SAM_LOCAL_MAX_NODES: "2" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    const project = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "project")),
    });
    projectId = project.body.id;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("shows a busy node; Drain on the page gives it no new work while its task finishes, and it stays draining; Remove takes it off the list", async () => {
    const first = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt("Work a while.", [{ say: "working" }, { sleep: 4000 }]),
    });
    const running = await waitForTask(api, first.body.id, (t) => t.status === "running");
    const nodeId = running.nodeId!;

    const page = new NodesPage(owner.page, app.baseUrl);
    await page.open();
    await expect.poll(() => page.status(nodeId).textContent()).toBe("busy");
    expect(await page.running(nodeId).textContent()).toMatch(/^1\/\d+$/);
    expect(await seriousAxeViolations(owner.page)).toEqual([]);

    await page.drain(nodeId);
    await expect.poll(() => page.status(nodeId).textContent()).toBe("draining");

    // New work goes to another node; the drained node's task goes on to its end.
    const second = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt("Quick.", [{ say: "quick" }]),
    });
    const placed = await waitForTask(api, second.body.id, (t) => t.nodeId !== null, 30_000);
    expect(placed.nodeId).not.toBe(nodeId);
    expect((await waitForTask(api, first.body.id, isTerminal)).status).toBe("completed");

    // Idle now, and still draining: the page follows without a reload.
    await expect.poll(() => page.running(nodeId).textContent(), { timeout: 10_000 }).toMatch(/^0\//);
    expect(await page.status(nodeId).textContent()).toBe("draining");

    await page.remove(nodeId);
    await expect.poll(() => page.row(nodeId).count()).toBe(0);
  });

  it("a task whose project requires labels no node has says so on its page, and starts once the project no longer requires them", async () => {
    const labelled = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "labelled")),
    });
    expect((await api.patch(`/api/projects/${labelled.body.id}`, { nodeLabels: ["gpu"] })).status).toBe(200);
    const task = await api.post<{ id: string }>("/api/tasks", {
      projectId: labelled.body.id,
      prompt: scriptPrompt("Needs a GPU.", [{ say: "done" }]),
    });
    const page = new TaskPage(owner.page, app.baseUrl, labelled.body.id);
    await page.open(task.body.id);
    await expect
      .poll(() => page.placementWait.textContent())
      .toMatch(/^Waiting for a node with the labels gpu: no live node has them all\./);
    expect(await seriousAxeViolations(owner.page)).toEqual([]);

    expect((await api.patch(`/api/projects/${labelled.body.id}`, { nodeLabels: [] })).status).toBe(200);
    await page.waitForStatus("completed");
    expect(await page.placementWait.count()).toBe(0);
  });

  it("only the instance admin sees or manages nodes: anyone else gets 403 from /api/nodes and its actions", async () => {
    const db = openAppDb(app);
    let token: string;
    try {
      const user = await createLocalUser(db, { email: "not-the-admin@example.com" });
      token = (await mintPersonalToken(db, user.id, { name: "nodes" })).token;
    } finally {
      db.$client.close();
    }
    const as = (route: string, method = "GET") =>
      fetch(`${app.baseUrl}${route}`, { method, headers: { authorization: `Bearer ${token}` } });
    const listed = await as("/api/nodes");
    expect(listed.status).toBe(403);
    expect((await listed.json()).error.message).toMatch(/Only the instance admin/);
    const nodes = (await api.get<{ nodes: { id: string }[] }>("/api/nodes")).body.nodes;
    expect(nodes.length).toBeGreaterThan(0);
    expect((await as(`/api/nodes/${nodes[0]!.id}/drain`, "POST")).status).toBe(403);
    expect((await as(`/api/nodes/${nodes[0]!.id}/remove`, "POST")).status).toBe(403);
    expect((await api.get<{ nodes: { id: string; status: string }[] }>("/api/nodes")).body.nodes[0]?.status).not.toBe(
      "draining",
    );
  });

  it("shows each cloud setting's creation failures and back-off", async () => {
    const db = openAppDb(app);
    try {
      await db.insert(cloudSettings).values({
        id: "cloud-settings-page-test",
        provider: "hetzner",
        serverType: "cx22",
        location: "fsn1",
        image: "debian-12",
        failures: 3,
        backoffUntil: new Date(Date.now() + 10 * 60_000),
        lastError: "resource_limit_exceeded: server limit reached",
        lastErrorAt: new Date(),
      });
    } finally {
      db.$client.close();
    }
    const page = new NodesPage(owner.page, app.baseUrl);
    await page.open();
    await expect.poll(() => page.cloudFailures.textContent()).toMatch(/3 failures in a row; backing off until/);
    expect(await page.cloudFailures.textContent()).toMatch(/server limit reached/);
  });
});
