import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentEvent, sessionResponseSchema, workspaceResponseSchema } from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { type FakeWeb, startFakeWeb, until } from "./fake-web.ts";
import { gitIn, makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

// Nothing listens on the discard port: the harness must cope with an unreachable MCP server.
const MCP_URL = "http://127.0.0.1:9/api/mcp";
const TASK_TOKEN = "task-token-".padEnd(48, "x");

function script(steps: unknown[]): string {
  return `\`\`\`sam-script\n${JSON.stringify(steps)}\n\`\`\``;
}

describe("sessions end to end (real daemon, built-in harness, scripted model)", () => {
  const temp = makeTempDir("sam-sessions-");
  const source = makeRepo(path.join(temp.dir, "source"));
  const token = newNodeToken();
  let web: FakeWeb;
  let daemon: DaemonProcess;
  let counter = 0;

  beforeAll(async () => {
    web = await startFakeWeb(token);
    daemon = spawnDaemon({
      SAM_NODE_ID: "node-sessions",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node"),
      SAM_WEB_URL: web.url,
      SAM_HEARTBEAT_MS: "200",
    });
    await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    await web.close();
    temp.cleanup();
  });

  /** Creates a workspace and starts a session in it; returns the ids and the branch. */
  async function startSession(opts: { mode: "task" | "conversation"; prompt: string; harness?: string }) {
    counter += 1;
    const ids = { workspaceId: `ws-${counter}`, taskId: `task-${counter}`, sessionId: `session-${counter}` };
    const branch = `sam/e2e-${counter}`;
    const ws = await daemon.call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch });
    expect(ws.status).toBe(201);
    const res = await daemon.call("POST", "/sessions", {
      ...ids,
      mode: opts.mode,
      harness: opts.harness ?? "builtin",
      model: "scripted",
      prompt: opts.prompt,
      mcpUrl: MCP_URL,
      taskToken: TASK_TOKEN,
    });
    expect(res.status).toBe(201);
    expect(sessionResponseSchema.parse(res.body).state).toBe("starting");
    return { ...ids, branch, path: workspaceResponseSchema.parse(ws.body).path };
  }

  const finishedEvent = (sessionId: string) =>
    web.waitFor((event) => event.sessionId === sessionId && event.event.type === "session_finished");

  function expectNoGaps(events: AgentEvent[]): void {
    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
  }

  it("a scripted task writes a file; the daemon commits it, pushes the branch to the project repo and finishes completed", async () => {
    const s = await startSession({
      mode: "task",
      prompt: `Say hello in a file.\n${script([
        { tool: "write_file", args: { path: "hello.txt", content: "hi" } },
        { say: "Wrote hello.txt" },
      ])}`,
    });
    const finished = await finishedEvent(s.sessionId);
    const events = web.eventsOf(s.sessionId);
    expectNoGaps(events);
    const types = events.map((event) => event.event.type);
    expect(types.slice(0, 2)).toEqual(["session_started", "user_message"]);
    expect(types).toContain("tool_call");
    expect(types).toContain("tool_result");
    expect(types.slice(-3)).toEqual(["turn_ended", "work_saved", "session_finished"]);
    const saved = events.find((event) => event.event.type === "work_saved")?.event;
    expect(saved).toMatchObject({ branch: s.branch, pushed: true });
    expect(finished.event).toMatchObject({ outcome: "completed", branch: s.branch });
    const commit = (finished.event as { commit: string }).commit;
    expect(gitIn(source, "rev-parse", `refs/heads/${s.branch}`)).toBe(commit);
    expect(gitIn(source, "show", `${commit}:hello.txt`)).toBe("hi");
    expect(sessionResponseSchema.parse((await daemon.call("GET", `/sessions/${s.sessionId}`)).body).state).toBe(
      "finished",
    );
    // The task token reaches the agent over ACP only; it is never shipped as an event.
    expect(JSON.stringify(events)).not.toContain(TASK_TOKEN);
  });

  it("a conversation stays idle after its turn, and an injected message starts a second turn", async () => {
    const s = await startSession({ mode: "conversation", prompt: script([{ say: "first answer" }]) });
    await web.waitFor((event) => event.sessionId === s.sessionId && event.event.type === "turn_ended");
    expect(sessionResponseSchema.parse((await daemon.call("GET", `/sessions/${s.sessionId}`)).body).state).toBe("idle");

    const message = { messageId: "m-1", text: script([{ say: "second answer" }]), source: "user" };
    const sent = await daemon.call("POST", `/sessions/${s.sessionId}/messages`, message);
    expect(sent).toEqual({ status: 200, body: { delivered: true, queued: false } });
    // The same message again is acknowledged, not delivered twice.
    expect((await daemon.call("POST", `/sessions/${s.sessionId}/messages`, message)).body).toEqual({
      delivered: true,
      queued: false,
    });
    await web.waitFor(
      (event) =>
        event.sessionId === s.sessionId && event.event.type === "agent_text" && event.event.text === "second answer",
    );
    await until(() => web.eventsOf(s.sessionId).filter((event) => event.event.type === "turn_ended").length === 2);
    const events = web.eventsOf(s.sessionId);
    expectNoGaps(events);
    expect(events.filter((event) => event.event.type === "user_message")).toHaveLength(2);
    expect(events.some((event) => event.event.type === "session_finished")).toBe(false);
    expect(sessionResponseSchema.parse((await daemon.call("GET", `/sessions/${s.sessionId}`)).body).state).toBe("idle");
  });

  it("ending a conversation completes it with the reason, and nothing it wrote is committed or pushed", async () => {
    const s = await startSession({
      mode: "conversation",
      prompt: script([{ tool: "write_file", args: { path: "scratch.txt", content: "exploring" } }, { say: "noted" }]),
    });
    await web.waitFor((event) => event.sessionId === s.sessionId && event.event.type === "turn_ended");
    const stop = await daemon.call("POST", `/sessions/${s.sessionId}/stop`, {
      graceMs: 0,
      reason: "stopped by user: ended by the user",
      end: true,
    });
    expect(stop.status).toBe(202);
    const finished = await finishedEvent(s.sessionId);
    expect(finished.event).toEqual({
      type: "session_finished",
      outcome: "completed",
      reason: "stopped by user: ended by the user",
    });
    expect(web.eventsOf(s.sessionId).some((event) => event.event.type === "work_saved")).toBe(false);
    expect(gitIn(source, "branch", "--list", s.branch)).toBe("");
    // Its place on the node is freed for the tests that follow.
    expect((await daemon.call("DELETE", `/workspaces/${s.workspaceId}`)).status).toBe(204);
  });

  it("stop with a warning and a 1.5 s grace ends a session busy in a 20 s sleep as failed with the reason, and pushes what it wrote", async () => {
    const s = await startSession({
      mode: "task",
      prompt: script([
        { tool: "write_file", args: { path: "wip.txt", content: "work in progress" } },
        { sleep: 20_000 },
        { say: "never said" },
      ]),
    });
    await web.waitFor((event) => event.sessionId === s.sessionId && event.event.type === "tool_result");
    const started = Date.now();
    const stop = await daemon.call("POST", `/sessions/${s.sessionId}/stop`, {
      warning: "You are about to be stopped; wrap up.",
      graceMs: 1500,
      reason: "stopped by parent: test",
    });
    expect(stop.status).toBe(202);
    expect(sessionResponseSchema.parse(stop.body).state).toBe("stopping");
    // A second stop while stopping changes nothing.
    expect((await daemon.call("POST", `/sessions/${s.sessionId}/stop`, { graceMs: 0, reason: "again" })).status).toBe(
      202,
    );

    const finished = await finishedEvent(s.sessionId);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(1500 + 5000);
    expect(finished.event).toMatchObject({ outcome: "failed", reason: "stopped by parent: test", branch: s.branch });
    expect(gitIn(source, "show", `refs/heads/${s.branch}:wip.txt`)).toBe("work in progress");
    const events = web.eventsOf(s.sessionId);
    expectNoGaps(events);
    expect(events.map((event) => event.event)).toContainEqual({ type: "turn_ended", stopReason: "cancelled" });
    expect(events.some((event) => event.event.type === "agent_text" && event.event.text === "never said")).toBe(false);

    const late = await daemon.call("POST", `/sessions/${s.sessionId}/messages`, {
      messageId: "late",
      text: "hello?",
      source: "parent",
    });
    expect(late.status).toBe(409);
  });

  it("the subprocess harness runs a task the same way", async () => {
    const s = await startSession({
      mode: "task",
      harness: "builtin-subprocess",
      prompt: script([{ tool: "write_file", args: { path: "from-subprocess.txt", content: "ok" } }]),
    });
    const finished = await finishedEvent(s.sessionId);
    expect(finished.event).toMatchObject({ outcome: "completed", branch: s.branch });
    expect(gitIn(source, "show", `refs/heads/${s.branch}:from-subprocess.txt`)).toBe("ok");
  });

  it("heartbeats carry the node's URL, capacity, workspaces and session states", async () => {
    const url = await daemon.url;
    const before = web.heartbeats.length;
    await until(() => web.heartbeats.length > before);
    const beat = web.heartbeats.at(-1);
    expect(beat).toMatchObject({ nodeId: "node-sessions", url, capacity: 4 });
    expect(beat?.sessions).toContainEqual({ sessionId: "session-1", taskId: "task-1", state: "finished" });
    expect(beat?.sessions).toContainEqual({ sessionId: "session-2", taskId: "task-2", state: "idle" });
  });

  it("refuses sessions and messages that cannot be served: unknown workspace or session, busy workspace, bad input", async () => {
    const base = {
      sessionId: "session-x",
      taskId: "task-2",
      mode: "task",
      harness: "builtin",
      model: "scripted",
      prompt: "hi",
      mcpUrl: MCP_URL,
      taskToken: TASK_TOKEN,
    };
    const noWorkspace = await daemon.call("POST", "/sessions", { ...base, workspaceId: "ws-missing" });
    expect(noWorkspace.status).toBe(404);
    // ws-2 still runs its conversation.
    const busy = await daemon.call("POST", "/sessions", { ...base, workspaceId: "ws-2" });
    expect(busy.status).toBe(409);
    expect((busy.body as { error: { code: string } }).error.code).toBe("workspace_busy");
    const removeBusy = await daemon.call("DELETE", "/workspaces/ws-2");
    expect(removeBusy.status).toBe(409);

    const badInput = await daemon.call("POST", "/sessions", { ...base, workspaceId: "ws-2", taskToken: "short" });
    expect(badInput.status).toBe(400);
    expect((badInput.body as { error: { message: string } }).error.message).toMatch(/^taskToken: /);
    expect(JSON.stringify(badInput.body)).not.toContain("short");

    expect((await daemon.call("GET", "/sessions/nope")).status).toBe(404);
    expect((await daemon.call("POST", "/sessions/nope/cancel")).status).toBe(404);
    expect((await daemon.call("POST", "/sessions/nope/stop", { graceMs: 0, reason: "x" })).status).toBe(404);
  });
});
