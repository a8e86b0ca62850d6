import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { healthResponseSchema } from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { startFakeWeb, until } from "./fake-web.ts";
import { makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

describe("the sandbox fails closed", () => {
  const temp = makeTempDir("sam-sandbox-");
  const running: DaemonProcess[] = [];
  afterAll(async () => {
    for (const daemon of running) await daemon.stop();
    temp.cleanup();
  });

  /** A PATH with git and the system tools the daemon uses, but no bubblewrap: the sandbox cannot start. */
  function pathWithoutBwrap(): string {
    const bin = path.join(temp.dir, "bin");
    if (fs.existsSync(bin)) return bin;
    fs.mkdirSync(bin, { recursive: true });
    for (const tool of ["git", "sh", "bash", "find", "chown"]) fs.symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
    return bin;
  }

  it("a node without bubblewrap reports its sandbox unavailable and fails every session with how to fix it", async () => {
    const token = newNodeToken();
    const web = await startFakeWeb(token);
    const source = makeRepo(path.join(temp.dir, "source"));
    const daemon = spawnDaemon({
      SAM_NODE_ID: "node-no-bwrap",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node"),
      SAM_WEB_URL: web.url,
      PATH: pathWithoutBwrap(),
    });
    running.push(daemon);
    try {
      const health = healthResponseSchema.parse((await daemon.call("GET", "/health")).body);
      expect(health.sandbox.state).toBe("unavailable");
      expect(health.sandbox.error).toMatch(/bubblewrap \(bwrap\) is not installed/);
      await until(() => web.heartbeats.length > 0);
      expect(web.heartbeats[0]?.sandbox?.state).toBe("unavailable");

      const ids = { workspaceId: "ws-1", taskId: "task-1", sessionId: "session-1" };
      expect(
        (await daemon.call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch: "sam/closed-1" }))
          .status,
      ).toBe(201);
      await daemon.call("POST", "/sessions", {
        ...ids,
        mode: "task",
        harness: "builtin",
        model: "scripted",
        prompt: '```sam-script\n[{"tool":"shell","args":{"command":"echo unconfined"}}]\n```',
        mcpUrl: "http://127.0.0.1:9/api/mcp",
        taskToken: "k".repeat(40),
      });
      const finished = await web.waitFor((event) => event.event.type === "session_finished");
      expect(finished.event).toMatchObject({ outcome: "failed" });
      const reason = (finished.event as { reason: string }).reason;
      expect(reason).toMatch(/the sandbox cannot start on this node/);
      expect(reason).toMatch(/apt-get install bubblewrap/);
      expect(reason).toMatch(/SAM_SANDBOX=off/);
      // Nothing ran: no tool was called.
      expect(web.eventsOf("session-1").some((event) => event.event.type === "tool_call")).toBe(false);
    } finally {
      await daemon.stop();
      await web.close();
    }
  });

  it("SAM_SANDBOX=off runs the agent unconfined and says so", async () => {
    const token = newNodeToken();
    const daemon = spawnDaemon({
      SAM_NODE_ID: "node-off",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node-off"),
      SAM_SANDBOX: "off",
      PATH: pathWithoutBwrap(),
    });
    running.push(daemon);
    const health = healthResponseSchema.parse((await daemon.call("GET", "/health")).body);
    expect(health.sandbox).toEqual({ state: "off" });
  });
});
