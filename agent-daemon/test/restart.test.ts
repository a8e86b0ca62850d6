import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { healthResponseSchema, sessionResponseSchema } from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { type FakeWeb, startFakeWeb, until } from "./fake-web.ts";
import { makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

describe("daemon restart", () => {
  const temp = makeTempDir("sam-restart-");
  const running: DaemonProcess[] = [];
  let web: FakeWeb | undefined;
  afterAll(async () => {
    // Daemons first: a stopping daemon flushes its outbox to the web app.
    for (const daemon of running) await daemon.stop();
    await web?.close();
    temp.cleanup();
  });

  it("events recorded with no web app configured survive a SIGKILL, the restarted daemon delivers them, numbers on, and removes the workspaces left without a session", async () => {
    const source = makeRepo(path.join(temp.dir, "source"));
    const token = newNodeToken();
    const env = {
      SAM_NODE_ID: "node-restart",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node"),
    };
    const first = spawnDaemon(env);
    running.push(first);
    const ids = { workspaceId: "ws-r", taskId: "task-r", sessionId: "session-r" };
    await first.call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch: "sam/restart-1" });
    await first.call("POST", "/sessions", {
      ...ids,
      mode: "conversation",
      harness: "builtin",
      model: "scripted",
      prompt: '```sam-script\n[{"say":"before the kill"}]\n```',
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "k".repeat(40),
    });
    await until(
      async () => sessionResponseSchema.parse((await first.call("GET", "/sessions/session-r")).body).state === "idle",
    );
    const pending = healthResponseSchema.parse((await first.call("GET", "/health")).body).outboxPending;
    expect(pending).toBeGreaterThanOrEqual(4);
    first.child.kill("SIGKILL");
    await first.exited;

    const receiver = await startFakeWeb(token);
    web = receiver;
    const second = spawnDaemon({ ...env, SAM_WEB_URL: receiver.url });
    running.push(second);
    await until(() => receiver.events.length === pending);
    const info = JSON.parse(fs.readFileSync(path.join(env.SAM_DAEMON_DATA_DIR, "daemon.json"), "utf8")) as unknown;
    expect(info).toMatchObject({ pid: second.child.pid, url: await second.url });
    expect(receiver.events.map((event) => event.seq)).toEqual(receiver.events.map((_, i) => i + 1));
    expect(receiver.events.map((event) => event.event.type)).toContain("agent_text");
    // The session died with its process, so its workspace has no session and is removed.
    expect(healthResponseSchema.parse((await second.call("GET", "/health")).body)).toMatchObject({
      workspaces: 0,
      sessions: 0,
      outboxPending: 0,
    });
    expect(fs.existsSync(path.join(env.SAM_DAEMON_DATA_DIR, "workspaces", "ws-r"))).toBe(false);
    expect((await second.call("GET", "/sessions/session-r")).status).toBe(404);
    await second.call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch: "sam/restart-1" });
    // A session of the same id on the restarted daemon continues the numbering: no (session, seq) is reused.
    await second.call("POST", "/sessions", {
      ...ids,
      mode: "conversation",
      harness: "builtin",
      model: "scripted",
      prompt: '```sam-script\n[{"say":"after the restart"}]\n```',
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "k".repeat(40),
    });
    await until(() =>
      receiver.events.some((event) => event.event.type === "agent_text" && event.event.text === "after the restart"),
    );
    expect(receiver.events.map((event) => event.seq)).toEqual(receiver.events.map((_, i) => i + 1));
    expect(receiver.duplicates()).toBe(0);
  });
});
