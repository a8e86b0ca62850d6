import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { agentEvents, chatSessions } from "@/db/schema";
import { until } from "../../agent-daemon/test/fake-web";
import {
  type ApiClient,
  isTerminal,
  openAppDb,
  ownerApi,
  scriptPrompt,
  type TaskView,
  waitForTask,
} from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { freePort } from "../helpers/free-port";
import { makeGitRepo } from "../helpers/git";
import { type JoinedNode, mintJoinToken, nodeRow, startJoinedNode } from "../helpers/joined-node";
import { createNetns, type Netns, netnsUnavailableReason } from "../helpers/netns";
import { makeTempDir } from "../helpers/temp-dir";

const unavailable = netnsUnavailableReason();
const NODE_TIMEOUT_MS = 3000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function agentSaid(app: AppServer, taskId: string, text: string): Promise<boolean> {
  const db = openAppDb(app);
  try {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    if (!session) return false;
    const events = await db.query.agentEvents.findMany({
      where: eq(agentEvents.sessionId, session.id),
      orderBy: asc(agentEvents.seq),
    });
    return events.some(
      (e) => e.type === "agent_text" && (JSON.parse(e.payload) as { text: string }).text.includes(text),
    );
  } finally {
    db.$client.close();
  }
}

describe.skipIf(unavailable)("a joined node lost under its task", () => {
  let ns: Netns;
  let app: AppServer;
  let api: ApiClient;
  let webUrl: string;

  async function join(name: string): Promise<JoinedNode> {
    const { token } = await mintJoinToken(app, webUrl);
    const node = await startJoinedNode({
      ns,
      webUrl,
      token,
      name,
      capacity: 1,
      env: { SAM_HEARTBEAT_MS: "300", ...(process.env.SAM_SANDBOX ? { SAM_SANDBOX: process.env.SAM_SANDBOX } : {}) },
    });
    cleanups.push(() => node.stop({ removeDir: true }));
    await until(async () => (await nodeRow(app, node.nodeId))?.channelOpen === true, 30_000);
    return node;
  }

  it("kill -9 of a joined daemon in its network namespace fails its task with `node lost`, and the task is re-queued on a second joined node, where it completes", async () => {
    ns = createNetns();
    cleanups.push(() => ns.destroy());
    const repos = makeTempDir("sam-lost-joined-");
    cleanups.push(repos.cleanup);
    const port = await freePort();
    app = await startAppServer({
      env: {
        HOST: ns.hostIp,
        SAM_LOCAL_NODES: "0",
        SAM_TICK_MS: "200",
        SAM_HEARTBEAT_MS: "300",
        SAM_NODE_TIMEOUT_MS: String(NODE_TIMEOUT_MS),
      },
      port,
    });
    cleanups.push(() => app.stop());
    webUrl = `http://${ns.hostIp}:${port}`;
    api = await ownerApi(app);
    const project = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "project")),
    });

    // Both nodes are up before the task, so nothing but the kill happens between the agent's first
    // words and its node's end (the task must still be running when its node goes).
    const joined = [await join("first"), await join("second")];
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId: project.body.id,
      prompt: scriptPrompt("Work on a joined node, then write done.txt.", [
        { say: "working" },
        { sleep: 8000 },
        { tool: "write_file", args: { path: "done.txt", content: "done\n" } },
      ]),
    });
    const taskId = created.body.id;
    const running = await waitForTask(api, taskId, (t) => t.status === "running");
    const first = joined.find((n) => n.nodeId === running.nodeId);
    const second = joined.find((n) => n.nodeId !== running.nodeId);
    if (!first || !second) throw new Error(`the task runs on neither joined node (${running.nodeId})`);
    await until(() => agentSaid(app, taskId, "working"), 30_000);

    const killedAt = Date.now();
    await first.kill();
    const failed = await waitForTask(api, taskId, isTerminal, NODE_TIMEOUT_MS + 10_000);
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toBe("node lost");
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(NODE_TIMEOUT_MS - 1000);
    expect((await nodeRow(app, first.nodeId))?.status).toBe("lost");

    const { retriedAsId } = (await waitForTask(
      api,
      taskId,
      (t) => (t as TaskView & { retriedAsId: string | null }).retriedAsId !== null,
      10_000,
    )) as TaskView & { retriedAsId: string };
    const retry = await waitForTask(api, retriedAsId, isTerminal, 60_000);
    expect(retry.status).toBe("completed");
    expect(retry.nodeId).toBe(second.nodeId);
    const shown = await api.get<{ retryOfId: string; retryCount: number }>(`/api/tasks/${retriedAsId}`);
    expect(shown.body).toMatchObject({ retryOfId: taskId, retryCount: 1 });
  });
});
