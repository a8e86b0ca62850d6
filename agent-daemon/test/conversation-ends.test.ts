import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentEvent } from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { type FakeWeb, startFakeWeb } from "./fake-web.ts";
import { gitIn, makeRepo } from "./git-repo.ts";
import { descendantsOf } from "./processes.ts";
import { makeTempDir } from "./temp-dir.ts";

const MCP_URL = "http://127.0.0.1:9/api/mcp";
const TASK_TOKEN = "task-token-".padEnd(48, "x");

/** A conversation whose first turn writes a file: work that a save would commit and push. */
const PROMPT = `Explore.\n\`\`\`sam-script\n${JSON.stringify([
  { tool: "write_file", args: { path: "notes.md", content: "ideas worth keeping?" } },
  { say: "noted" },
])}\n\`\`\``;

describe("a conversation never pushes, however it ends (real daemons, real git)", () => {
  const temp = makeTempDir("sam-conv-ends-");
  const token = newNodeToken();
  const daemons: DaemonProcess[] = [];
  let web: FakeWeb;
  let counter = 0;

  beforeAll(async () => {
    web = await startFakeWeb(token);
  });
  afterEach(async () => {
    for (const daemon of daemons.splice(0)) await daemon.stop();
  });
  afterAll(async () => {
    await web.close();
    temp.cleanup();
  });

  /** A daemon of its own and a project repository of its own, with a conversation idle after its first turn. */
  async function idleConversation(harness: "builtin" | "builtin-subprocess" = "builtin") {
    counter += 1;
    const source = makeRepo(path.join(temp.dir, `source-${counter}`));
    const daemon = spawnDaemon({
      SAM_NODE_ID: `node-conv-${counter}`,
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: path.join(temp.dir, `node-${counter}`),
      SAM_WEB_URL: web.url,
      SAM_HEARTBEAT_MS: "200",
    });
    daemons.push(daemon);
    const ids = { workspaceId: `ws-${counter}`, taskId: `task-${counter}`, sessionId: `session-${counter}` };
    const created = await daemon.call("POST", "/workspaces", {
      ...ids,
      repo: source,
      baseBranch: "main",
      branch: `sam/conv-${counter}`,
    });
    expect(created.status).toBe(201);
    const started = await daemon.call("POST", "/sessions", {
      ...ids,
      mode: "conversation",
      harness,
      model: "scripted",
      prompt: PROMPT,
      mcpUrl: MCP_URL,
      taskToken: TASK_TOKEN,
    });
    expect(started.status).toBe(201);
    await web.waitFor((e) => e.sessionId === ids.sessionId && e.event.type === "turn_ended");
    const finished = () =>
      web.waitFor((e) => e.sessionId === ids.sessionId && e.event.type === "session_finished") as Promise<
        AgentEvent & { event: { type: "session_finished" } }
      >;
    const savedAnything = () => web.eventsOf(ids.sessionId).some((e) => e.event.type === "work_saved");
    return { daemon, source, ids, finished, savedAnything };
  }

  const samBranches = (source: string) => gitIn(source, "branch", "--list", "sam/*");

  it("ended by its user: completes, no sam/* branch in the repository", async () => {
    const c = await idleConversation();
    const stop = { graceMs: 0, reason: "stopped by user: ended by the user", end: true };
    expect((await c.daemon.call("POST", `/sessions/${c.ids.sessionId}/stop`, stop)).status).toBe(202);
    expect((await c.finished()).event).toEqual({
      type: "session_finished",
      outcome: "completed",
      reason: "stopped by user: ended by the user",
    });
    expect(c.savedAnything()).toBe(false);
    expect(samBranches(c.source)).toBe("");
  });

  it("stopped (a parent's stop_subtask, a user's stop): fails with the reason, no sam/* branch", async () => {
    const c = await idleConversation();
    const stop = { warning: "You are being stopped.", graceMs: 1000, reason: "stopped by parent: enough talk" };
    expect((await c.daemon.call("POST", `/sessions/${c.ids.sessionId}/stop`, stop)).status).toBe(202);
    expect((await c.finished()).event).toEqual({
      type: "session_finished",
      outcome: "failed",
      reason: "stopped by parent: enough talk",
    });
    expect(c.savedAnything()).toBe(false);
    expect(samBranches(c.source)).toBe("");
  });

  it("its harness crashes: fails with the crash, no sam/* branch", async () => {
    const c = await idleConversation("builtin-subprocess");
    const harness = descendantsOf(c.daemon.child.pid!).filter((p) => p.cmdline.includes("sam-harness.mjs"));
    expect(harness.length).toBeGreaterThan(0);
    for (const p of harness) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch (err) {
        // One of them (the sandbox's inner process) may already have died with the other.
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
      }
    }
    const finished = await c.finished();
    expect(finished.event).toMatchObject({ outcome: "failed", reason: expect.stringMatching(/^harness crashed: /) });
    expect(finished.event.branch).toBeUndefined();
    expect(c.savedAnything()).toBe(false);
    expect(samBranches(c.source)).toBe("");
  });

  it("its daemon shuts down: fails, no sam/* branch", async () => {
    const c = await idleConversation();
    expect(await c.daemon.stop()).toBe(0);
    expect((await c.finished()).event).toEqual({
      type: "session_finished",
      outcome: "failed",
      reason: "the node daemon shut down",
    });
    expect(c.savedAnything()).toBe(false);
    expect(samBranches(c.source)).toBe("");
  });

  it("its node is declared lost: the daemon retires, the conversation fails, no sam/* branch", async () => {
    const c = await idleConversation();
    web.declareLost();
    expect(await c.daemon.exited).toBe(0);
    expect(c.daemon.stderr()).toContain("the web app refused this node (HTTP 409)");
    expect((await c.finished()).event).toEqual({
      type: "session_finished",
      outcome: "failed",
      reason: "the node daemon shut down",
    });
    expect(c.savedAnything()).toBe(false);
    expect(samBranches(c.source)).toBe("");
  });
});
