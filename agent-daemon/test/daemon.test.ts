import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { daemonConfigSchema, healthResponseSchema } from "../src/contract.ts";
import { startDaemon } from "../src/daemon.ts";
import { newNodeToken } from "./daemon-process.ts";
import { startFakeWeb, until } from "./fake-web.ts";
import { makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

describe("startDaemon (in-process)", () => {
  const temp = makeTempDir("sam-daemon-inproc-");
  afterAll(() => temp.cleanup());

  it("runs in-process; close() ends running sessions with their work saved, delivers their last events and frees the port", async () => {
    const token = newNodeToken();
    const web = await startFakeWeb(token);
    const source = makeRepo(path.join(temp.dir, "source"));
    const daemon = await startDaemon(
      daemonConfigSchema.parse({
        nodeId: "node-inproc",
        nodeToken: token,
        host: "127.0.0.1",
        port: 0,
        capacity: 2,
        dataDir: path.join(temp.dir, "node"),
        webUrl: web.url,
        heartbeatMs: 10_000,
      }),
    );
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${daemon.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.json()) as unknown;
    };
    try {
      expect(healthResponseSchema.parse(await call("GET", "/health")).nodeId).toBe("node-inproc");
      // The first heartbeat goes out right after the start.
      await until(() => web.heartbeats.length > 0);
      const ids = { workspaceId: "ws-1", taskId: "task-1", sessionId: "session-1" };
      await call("POST", "/workspaces", { ...ids, repo: source, baseBranch: "main", branch: "sam/inproc-1" });
      await call("POST", "/sessions", {
        ...ids,
        mode: "task",
        harness: "builtin",
        model: "scripted",
        prompt:
          '```sam-script\n[{"tool":"write_file","args":{"path":"notes.md","content":"draft"}},{"sleep":30000}]\n```',
        mcpUrl: "http://127.0.0.1:9/api/mcp",
        taskToken: "k".repeat(40),
      });
      await until(() => web.events.some((event) => event.event.type === "tool_result"));
    } finally {
      await daemon.close();
    }
    const finished = web.events.find((event) => event.event.type === "session_finished");
    expect(finished?.event).toMatchObject({
      outcome: "failed",
      reason: "the node daemon shut down",
      branch: "sam/inproc-1",
    });
    await expect(fetch(`${daemon.url}/health`)).rejects.toThrow();
    await web.close();
  });
});
