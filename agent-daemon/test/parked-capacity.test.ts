import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionResponseSchema } from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { type FakeWeb, startFakeWeb, until } from "./fake-web.ts";
import { makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

const MCP_URL = "http://127.0.0.1:9/api/mcp";
const TASK_TOKEN = "task-token-".padEnd(48, "x");

interface ErrorBody {
  error: { code: string };
}

describe("a parked task session (idle, its web app deciding) takes no share of the node's capacity", () => {
  const temp = makeTempDir("sam-parked-");
  const source = makeRepo(path.join(temp.dir, "source"));
  const token = newNodeToken();
  let web: FakeWeb;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    web = await startFakeWeb(token);
    daemon = spawnDaemon({
      SAM_NODE_ID: "node-parked",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node"),
      SAM_WEB_URL: web.url,
      SAM_NODE_CAPACITY: "1",
    });
    await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    await web.close();
    temp.cleanup();
  });

  const workspace = (n: number) =>
    daemon.call("POST", "/workspaces", {
      workspaceId: `ws-${n}`,
      taskId: `task-${n}`,
      repo: source,
      baseBranch: "main",
      branch: `sam/parked-${n}`,
    });
  const start = (n: number, prompt: string) =>
    daemon.call("POST", "/sessions", {
      workspaceId: `ws-${n}`,
      taskId: `task-${n}`,
      sessionId: `session-${n}`,
      mode: "task",
      taskTurnEnd: "wait",
      harness: "builtin",
      model: "scripted",
      prompt,
      mcpUrl: MCP_URL,
      taskToken: TASK_TOKEN,
    });
  const state = async (n: number) =>
    sessionResponseSchema.parse((await daemon.call("GET", `/sessions/session-${n}`)).body).state;

  it("on a node of one place, a parked session's workspace leaves room for another; a working one does not", async () => {
    expect((await workspace(1)).status).toBe(201);
    // A turn that ends at once (no script: the fixed reply): the session parks.
    expect((await start(1, "Dispatch and wait.")).status).toBe(201);
    await until(async () => (await state(1)) === "idle");

    expect((await workspace(2)).status).toBe(201);
    const working = `Work.\n\n\`\`\`sam-script\n${JSON.stringify([{ sleep: 30_000 }])}\n\`\`\``;
    expect((await start(2, working)).status).toBe(201);
    await until(async () => (await state(2)) === "working");

    const refused = await workspace(3);
    expect(refused.status).toBe(409);
    expect((refused.body as ErrorBody).error.code).toBe("capacity_full");
  });
});
