import path from "node:path";
import { and, asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, messages, nodes, taskEvents } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { until } from "../../agent-daemon/test/fake-web";
import { isRunning } from "../../agent-daemon/test/processes";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, killLocalDaemons, startAppServer } from "../helpers/app-server";
import { makeGitRepo } from "../helpers/git";
import { callToolOk } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ENV = { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "300" };

async function projectOn(api: ApiClient, name: string): Promise<string> {
  const repos = makeTempDir("sam-cleanup-repos-");
  cleanups.push(repos.cleanup);
  const created = await api.post<{ id: string }>("/api/projects", { repo: makeGitRepo(path.join(repos.dir, name)) });
  expect(created.status).toBe(201);
  // One second of grace keeps the stops short; the protocol is the same.
  expect((await api.patch(`/api/projects/${created.body.id}`, { stopGraceSeconds: 1 })).status).toBe(200);
  return created.body.id;
}

async function createTask(api: ApiClient, projectId: string, prompt: string, mode = "task"): Promise<string> {
  const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function withDb<T>(app: AppServer, read: (db: ReturnType<typeof openAppDb>) => Promise<T>): Promise<T> {
  const db = openAppDb(app);
  try {
    return await read(db);
  } finally {
    db.$client.close();
  }
}

describe("every task ends clean", () => {
  it("a failed parent cancels its queued descendants and stops its running ones with 'parent ended'", async () => {
    const app = await startAppServer({ env: ENV });
    cleanups.push(() => app.stop());
    const api = await ownerApi(app);
    const projectId = await projectOn(api, "cascade");

    const parent = await createTask(api, projectId, scriptPrompt("Plan.", [{ say: "planning" }]), "conversation");
    await waitForTask(api, parent, (t) => t.status === "awaiting_followup");
    const dispatch = async (as: string, args: Record<string, unknown>) => {
      const token = await withDb(app, (db) => mintTaskToken(db, as));
      return (await callToolOk<{ taskId: string }>(app.baseUrl, token, "dispatch_task", args)).taskId;
    };
    const long = scriptPrompt("Work.", [{ say: "working" }, { sleep: 60_000 }]);
    const child = await dispatch(parent, { title: "Runs", description: long });
    const queued = await dispatch(parent, { title: "Waits", description: "Later.", dependsOn: [child] });
    await waitForTask(api, child, (t) => t.status === "running");
    const grandchild = await dispatch(child, { title: "Runs below", description: long });
    const queuedBelow = await dispatch(child, { title: "Waits below", description: "Later.", dependsOn: [grandchild] });
    await waitForTask(api, grandchild, (t) => t.status === "running");

    expect((await api.post(`/api/tasks/${parent}/stop`, { reason: "wrong direction" })).status).toBe(200);
    const failed = await waitForTask(api, parent, isTerminal);
    expect(failed).toMatchObject({ status: "failed", failureReason: "stopped by user: wrong direction" });

    for (const id of [queued, queuedBelow]) {
      expect(await waitForTask(api, id, isTerminal)).toMatchObject({ status: "cancelled" });
      const last = await withDb(app, (db) =>
        db.query.taskEvents.findFirst({
          where: and(eq(taskEvents.taskId, id), eq(taskEvents.toStatus, "cancelled")),
        }),
      );
      expect(last?.reason).toBe("parent ended");
    }
    for (const id of [child, grandchild]) {
      expect(await waitForTask(api, id, isTerminal)).toMatchObject({ status: "failed", failureReason: "parent ended" });
      // Through the stop protocol: warned (in its chat), then ended by its daemon with the reason.
      const { said, events } = await withDb(app, async (db) => {
        const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, id) });
        return {
          said: await db.query.messages.findMany({ where: eq(messages.sessionId, session!.id) }),
          events: await db.query.agentEvents.findMany({
            where: eq(agentEvents.sessionId, session!.id),
            orderBy: asc(agentEvents.seq),
          }),
        };
      });
      expect(said.map((m) => m.content)).toContainEqual(
        expect.stringMatching(/^You are being stopped \(parent ended\)/),
      );
      expect(JSON.parse(events.at(-1)!.payload)).toMatchObject({
        type: "session_finished",
        outcome: "failed",
        reason: "parent ended",
      });
    }
  });

  it("a restarted web app takes over the local daemon still running; once no web app holds it, the idle daemon exits within 30 s", async () => {
    const data = makeTempDir("sam-adopt-");
    cleanups.push(async () => {
      await killLocalDaemons(data.dir);
      data.cleanup();
    });
    const first = await startAppServer({ env: ENV, dataDir: data.dir });
    const firstApi = await ownerApi(first);
    const projectId = await projectOn(firstApi, "adopt");
    const busy = await createTask(firstApi, projectId, scriptPrompt("Outlive the app.", [{ sleep: 60_000 }]));
    const running = await waitForTask(firstApi, busy, (t) => t.status === "running");
    const node = await withDb(first, (db) => db.query.nodes.findFirst({ where: eq(nodes.id, running.nodeId!) }));
    const { pid } = JSON.parse(node!.providerRef!) as { pid: number };
    await first.stop({ keepDaemons: true, keepData: true });

    // Elsewhere (another port), as a restart with PORT=0 does.
    const second = await startAppServer({ env: ENV, dataDir: data.dir });
    cleanups.push(() => second.stop({ keepData: true }));
    expect(second.baseUrl).not.toBe(first.baseUrl);
    const api = await ownerApi(second);
    // Taken over: the node is not lost, its task still runs, and it obeys the new web app.
    expect((await api.post(`/api/tasks/${busy}/stop`, { reason: "enough" })).status).toBe(200);
    expect(await waitForTask(api, busy, isTerminal)).toMatchObject({
      status: "failed",
      failureReason: "stopped by user: enough",
      nodeId: node!.id,
    });
    const next = await createTask(api, projectId, scriptPrompt("Quick.", [{ say: "done" }]));
    expect(await waitForTask(api, next, isTerminal)).toMatchObject({ status: "completed", nodeId: node!.id });
    expect(isRunning(pid)).toBe(true);
    expect(await withDb(second, (db) => db.select().from(nodes))).toHaveLength(1);
    // Its tasks are over; the workspaces are released.
    await until(async () =>
      (await withDb(second, (db) => db.query.workspaces.findMany())).every((w) => w.status === "removed"),
    );

    await second.stop({ keepDaemons: true, keepData: true });
    const goneFrom = Date.now();
    await until(() => !isRunning(pid), 30_000);
    expect(Date.now() - goneFrom).toBeLessThan(30_000);
  });
});
