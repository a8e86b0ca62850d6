import http from "node:http";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { type FakeWeb, startFakeWeb, until } from "./fake-web.ts";
import { makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Holds a daemon as a web app does (`POST /owner`, left open); `release` is the web app going away. */
async function hold(daemonUrl: string, token: string, webUrl: string): Promise<{ release: () => void }> {
  const body = JSON.stringify({ webUrl });
  const req = http.request(`${daemonUrl}/owner`, {
    method: "POST",
    agent: false,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
  const status = await new Promise<number | undefined>((resolve, reject) => {
    req.once("response", (res) => resolve(res.statusCode));
    req.once("error", reject);
    req.end(body);
  });
  expect(status).toBe(200);
  // What the hold's end does to the request is not the test's concern.
  req.on("error", () => {});
  return { release: () => req.destroy() };
}

async function setup(env: Record<string, string> = {}) {
  const temp = makeTempDir("sam-ownership-");
  cleanups.push(temp.cleanup);
  const token = newNodeToken();
  const web = await startFakeWeb(token);
  cleanups.push(web.close);
  const daemon = spawnDaemon({
    SAM_NODE_ID: "node-owned",
    SAM_NODE_TOKEN: token,
    SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node"),
    SAM_WEB_URL: web.url,
    SAM_HEARTBEAT_MS: "100",
    SAM_ORPHAN_EXIT_MS: "500",
    ...env,
  });
  cleanups.push(() => daemon.child.kill("SIGKILL"));
  await daemon.url;
  return { temp, token, web, daemon };
}

/** Milliseconds from now until the daemon's process exits, and its exit code. */
async function exitAfter(daemon: DaemonProcess): Promise<{ code: number | null; ms: number }> {
  const from = Date.now();
  const code = await daemon.exited;
  return { code, ms: Date.now() - from };
}

describe("a daemon started by a web app does not outlive it by surprise", () => {
  it("an idle daemon exits within its orphan wait once the web app holding it is gone", async () => {
    const { token, web, daemon } = await setup();
    const holder = await hold(await daemon.url, token, web.url);
    holder.release();
    const { code, ms } = await exitAfter(daemon);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(30_000);
    expect(daemon.stderr()).toContain("no web app has held this node for");
  });

  it("a daemon whose web app died before it took hold exits by itself", async () => {
    const { daemon } = await setup();
    expect((await exitAfter(daemon)).code).toBe(0);
  });

  it("a busy daemon stays until its session ends, then exits; the work is not cut short", async () => {
    const { temp, token, web, daemon } = await setup();
    const holder = await hold(await daemon.url, token, web.url);
    const source = makeRepo(path.join(temp.dir, "source"));
    const ids = { workspaceId: "ws-1", taskId: "task-1", sessionId: "session-1" };
    await daemon.call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch: "sam/owned-1" });
    await daemon.call("POST", "/sessions", {
      ...ids,
      mode: "task",
      harness: "builtin",
      model: "scripted",
      // Work to save: a task that changes nothing pushes no branch.
      prompt:
        '```sam-script\n[{"say":"working"},{"sleep":2000},' +
        '{"tool":"write_file","args":{"path":"work.txt","content":"work\\n"}},{"say":"done"}]\n```',
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "k".repeat(40),
    });
    await web.waitFor((e) => e.event.type === "agent_text" && e.event.text === "working");
    holder.release();
    await daemon.exited;
    const finished = web.events.find((e) => e.event.type === "session_finished");
    expect(finished?.event).toMatchObject({ outcome: "completed", branch: "sam/owned-1" });
    expect(web.events.some((e) => e.event.type === "agent_text" && e.event.text === "done")).toBe(true);
  });

  it("a restarted web app takes a daemon over: held again it stays, and beats and ships to the new address", async () => {
    const { temp, token, web, daemon } = await setup();
    const first = await hold(await daemon.url, token, web.url);
    first.release();
    // The web app comes back elsewhere before the orphan wait is over.
    const restarted: FakeWeb = await startFakeWeb(token);
    cleanups.push(restarted.close);
    const second = await hold(await daemon.url, token, restarted.url);
    const heldAt = Date.now();
    // Held, it outlives several orphan waits.
    await until(() => restarted.heartbeats.length > 0 && Date.now() - heldAt > 3 * 500);
    expect(daemon.child.exitCode).toBeNull();
    const source = makeRepo(path.join(temp.dir, "source"));
    const ids = { workspaceId: "ws-1", taskId: "task-1", sessionId: "session-1" };
    await daemon.call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch: "sam/owned-2" });
    await daemon.call("POST", "/sessions", {
      ...ids,
      mode: "conversation",
      harness: "builtin",
      model: "scripted",
      prompt: '```sam-script\n[{"say":"to the new address"}]\n```',
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "k".repeat(40),
    });
    await restarted.waitFor((e) => e.event.type === "agent_text" && e.event.text === "to the new address");
    expect(web.events).toEqual([]);
    second.release();
    expect((await exitAfter(daemon)).code).toBe(0);
  });

  it("an orphan that holds events no web app took waits for a restarted web app to take them, then exits", async () => {
    const { temp, token, web, daemon } = await setup();
    const holder = await hold(await daemon.url, token, web.url);
    // The web app goes away with the session's events still on the node.
    web.setDown(true);
    const source = makeRepo(path.join(temp.dir, "source"));
    const ids = { workspaceId: "ws-1", taskId: "task-1", sessionId: "session-1" };
    await daemon.call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch: "sam/owned-3" });
    await daemon.call("POST", "/sessions", {
      ...ids,
      mode: "task",
      harness: "builtin",
      model: "scripted",
      prompt: '```sam-script\n[{"say":"finished while the web app was away"}]\n```',
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "k".repeat(40),
    });
    holder.release();
    const releasedAt = Date.now();
    await until(async () => {
      const health = (await daemon.call("GET", "/health")).body as { sessions: number; outboxPending: number };
      return health.sessions === 0 && health.outboxPending > 0 && Date.now() - releasedAt > 3 * 500;
    });
    expect(daemon.child.exitCode).toBeNull();

    web.setDown(false);
    const back = await hold(await daemon.url, token, web.url);
    await web.waitFor((e) => e.event.type === "session_finished");
    back.release();
    expect((await exitAfter(daemon)).code).toBe(0);
    expect(web.eventsOf("session-1").map((e) => e.seq)).toEqual(web.eventsOf("session-1").map((_, i) => i + 1));
  });

  it("a node nobody started (no orphan wait) is not retired for having no holder", async () => {
    const { token, web, daemon } = await setup({ SAM_ORPHAN_EXIT_MS: "" });
    const holder = await hold(await daemon.url, token, web.url);
    holder.release();
    const releasedAt = Date.now();
    await until(() => web.heartbeats.length > 0 && Date.now() - releasedAt > 3 * 500);
    expect(daemon.child.exitCode).toBeNull();
  });
});
