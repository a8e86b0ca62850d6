import fs from "node:fs";
import path from "node:path";
import { asc, eq, inArray, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, nodes, taskEvents, tasks } from "@/db/schema";
import { isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, killLocalDaemons, startAppServer } from "../helpers/app-server";
import { freePort } from "../helpers/free-port";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function appWithProject(env: Record<string, string>, opts: { port?: number; dataDir?: string } = {}) {
  const repos = makeTempDir("sam-res-repos-");
  cleanups.push(repos.cleanup);
  const app = await startAppServer({ env, ...opts });
  const api = await ownerApi(app);
  const repo = makeGitRepo(path.join(repos.dir, "project"));
  const project = await api.post<{ id: string }>("/api/projects", { repo });
  expect(project.status).toBe(201);
  return { app, api, projectId: project.body.id };
}

async function sessionEvents(app: AppServer, taskId: string) {
  const db = openAppDb(app);
  try {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    return await db.query.agentEvents.findMany({
      where: eq(agentEvents.sessionId, session!.id),
      orderBy: asc(agentEvents.seq),
    });
  } finally {
    db.$client.close();
  }
}

describe("tasks survive what happens to the machines around them", () => {
  it("killing the daemon mid-task fails the task with 'node lost' within the timeout", async () => {
    const { app, api, projectId } = await appWithProject({
      SAM_TICK_MS: "200",
      SAM_HEARTBEAT_MS: "300",
      SAM_NODE_TIMEOUT_MS: "3000",
    });
    cleanups.push(() => app.stop());
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt("Work for a long time.", [{ say: "working" }, { sleep: 30_000 }]),
    });
    const running = await waitForTask(api, created.body.id, (t) => t.status === "running");
    // The agent's first words prove its session runs (`running` comes with the token, before the
    // session is started): the kill lands mid-task, not mid-start.
    const deadline = Date.now() + 30_000;
    while (!(await sessionEvents(app, created.body.id)).some((e) => e.type === "agent_text")) {
      if (Date.now() > deadline) throw new Error("the agent never spoke");
      await new Promise((r) => setTimeout(r, 50));
    }

    const db = openAppDb(app);
    const node = await db.query.nodes.findFirst({ where: eq(nodes.id, running.nodeId!) });
    db.$client.close();
    const { pid } = JSON.parse(node!.providerRef!) as { pid: number };
    const killedAt = Date.now();
    process.kill(pid, "SIGKILL");

    const failed = await waitForTask(api, created.body.id, isTerminal, 3000 + 5000);
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toMatch(/^node lost/);
    expect(Date.now() - killedAt).toBeLessThan(3000 + 5000);
  });

  it("restarting the web app while a task runs loses no event and doubles none, and the task finishes", async () => {
    const port = await freePort();
    const data = makeTempDir("sam-restart-");
    cleanups.push(() => {
      killLocalDaemons(data.dir);
      data.cleanup();
    });
    const env = { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "300" };
    const first = await appWithProject(env, { port, dataDir: data.dir });
    const created = await first.api.post<{ id: string }>("/api/tasks", {
      projectId: first.projectId,
      prompt: scriptPrompt("Outlive a restart.", [
        { say: "before the restart" },
        { sleep: 3000 },
        { tool: "write_file", args: { path: "during.txt", content: "written while the web app was down\n" } },
        { sleep: 1500 },
        { say: "after the restart" },
      ]),
    });
    const taskId = created.body.id;
    await waitForTask(first.api, taskId, (t) => t.status === "running");
    await first.app.stop({ keepDaemons: true, keepData: true });

    // The agent keeps working while no web app listens; its events wait in the node's outbox.
    await new Promise((r) => setTimeout(r, 2000));
    const second = await startAppServer({ env, port, dataDir: data.dir });
    cleanups.push(() => second.stop({ keepData: true }));
    const api = await ownerApi(second);
    const done = await waitForTask(api, taskId, isTerminal, 60_000);
    expect(done.status).toBe("completed");

    const events = await sessionEvents(second, taskId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const texts = events.filter((e) => e.type === "agent_text").map((e) => JSON.parse(e.payload).text as string);
    expect(texts.join("")).toContain("before the restart");
    expect(texts.join("")).toContain("after the restart");
    expect(events.at(-1)?.type).toBe("session_finished");
  });

  it("20 tasks at once on a node of capacity 4: never more than 4 at a time, all complete, none started twice", async () => {
    const { app, api, projectId } = await appWithProject({
      SAM_TICK_MS: "100",
      SAM_NODE_CAPACITY: "4",
      SAM_LOCAL_MAX_NODES: "1",
    });
    cleanups.push(() => app.stop());
    const db = openAppDb(app);
    cleanups.push(() => db.$client.close());

    let sampling = true;
    let maxOnNode = 0;
    let maxWorkspaces = 0;
    const sampler = (async () => {
      while (sampling) {
        const onNode = await db.all<{ n: number }>(sql`
          SELECT count(*) AS n FROM tasks WHERE status IN ('provisioning', 'running', 'awaiting_followup')
          GROUP BY node_id ORDER BY n DESC LIMIT 1`);
        const ws = await db.all<{ n: number }>(sql`
          SELECT count(*) AS n FROM workspaces WHERE status IN ('creating', 'ready') GROUP BY node_id ORDER BY n DESC LIMIT 1`);
        maxOnNode = Math.max(maxOnNode, Number(onNode[0]?.n ?? 0));
        maxWorkspaces = Math.max(maxWorkspaces, Number(ws[0]?.n ?? 0));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api.post<{ id: string }>("/api/tasks", {
          projectId,
          prompt: scriptPrompt(`Task ${i}`, [
            { tool: "write_file", args: { path: `out-${i}.txt`, content: `${i}\n` } },
            { sleep: 300 },
          ]),
        }),
      ),
    );
    expect(created.every((c) => c.status === 201)).toBe(true);
    const ids = created.map((c) => c.body.id);
    const finished = await Promise.all(ids.map((id) => waitForTask(api, id, isTerminal, 120_000)));
    sampling = false;
    await sampler;

    expect(finished.filter((t) => t.status !== "completed")).toEqual([]);
    expect(maxOnNode).toBeLessThanOrEqual(4);
    expect(maxOnNode).toBeGreaterThan(1);
    expect(maxWorkspaces).toBeLessThanOrEqual(4);
    const starts = await db
      .select({ taskId: taskEvents.taskId, n: sql<number>`count(*)` })
      .from(taskEvents)
      .where(eq(taskEvents.toStatus, "provisioning"))
      .groupBy(taskEvents.taskId);
    expect(starts.filter((s) => ids.includes(s.taskId)).map((s) => Number(s.n))).toEqual(ids.map(() => 1));
    const sessionsStarted = await db
      .select({ n: sql<number>`count(*)` })
      .from(agentEvents)
      .innerJoin(chatSessions, eq(chatSessions.id, agentEvents.sessionId))
      .where(sql`${agentEvents.type} = 'session_started' AND ${inArray(chatSessions.taskId, ids)}`);
    expect(Number(sessionsStarted[0]?.n)).toBe(20);
    const nodeIds = await db.selectDistinct({ nodeId: tasks.nodeId }).from(tasks).where(inArray(tasks.id, ids));
    expect(nodeIds).toHaveLength(1);
    expect(fs.existsSync(app.dataDir)).toBe(true);
  });
});
