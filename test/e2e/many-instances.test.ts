import { randomBytes } from "node:crypto";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, openDb } from "@/db/client";
import { tasks } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { childTaskStatements } from "@/lib/orchestrator/child-task";
import { type ApiClient, ownerApiOn, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { allEdges, callTool, createProject, createRootTask, findCycle, type ToolOutcome } from "../helpers/mcp";
import { type SqldServer, startSqld } from "../helpers/sqld";
import { makeTempDir } from "../helpers/temp-dir";
import { AppShell } from "../pages/app-shell";

/**
 * Three web app instances on one authenticated sqld, each with its own data dir, sharing only the
 * database and the secrets every instance must share (AUTH_SECRET signs sessions, SAM_SECRET_KEY
 * encrypts node tokens). Requests are spread across them; every answer must be a real one: no 5xx,
 * no internal error, no busy database.
 */
describe("many web app instances on one libSQL server", () => {
  const temp = makeTempDir("sam-instances-");
  let sqld: SqldServer;
  let db: Db;
  const apps: AppServer[] = [];
  let apis: ApiClient[] = [];
  let browser: Browser | undefined;
  const outcomes: ToolOutcome[] = [];

  beforeAll(async () => {
    sqld = await startSqld(temp.dir);
    const shared = {
      DATABASE_URL: sqld.url,
      DATABASE_AUTH_TOKEN: sqld.authToken,
      AUTH_SECRET: randomBytes(32).toString("base64url"),
      SAM_SECRET_KEY: randomBytes(32).toString("base64"),
      SAM_TICK_MS: "200",
      SAM_HEARTBEAT_MS: "500",
      SAM_NODE_CAPACITY: "10",
      // One local node for each of the two scheduling instances (the limit counts the shared table).
      SAM_LOCAL_MAX_NODES: "2",
    };
    // One after the other: the first applies the migrations (the others find them applied), and a
    // start that finds the build stale rebuilds it, which two at once cannot.
    for (const env of [shared, shared, { ...shared, SAM_SCHEDULER: "off" }]) apps.push(await startAppServer({ env }));
    db = openDb({ url: sqld.url, authToken: sqld.authToken });
    apis = await Promise.all(apps.map((app) => ownerApiOn(app.baseUrl, db)));
  });
  afterAll(async () => {
    await browser?.close();
    db?.$client.close();
    await Promise.all(apps.map((app) => app.stop()));
    await sqld?.stop();
    temp.cleanup();
  });

  /** Instance i of the calls, round robin. */
  const on = (i: number) => apps[i % apps.length]!;
  const call = async (i: number, token: string, name: string, args: unknown) => {
    const outcome = await callTool(on(i).baseUrl, token, name, args);
    outcomes.push(outcome);
    return outcome;
  };
  let repoCount = 0;
  const newRepo = () => makeGitRepo(path.join(temp.dir, `repo-${++repoCount}`));

  /** A project whose tasks no node may take (no node has its label): they stay queued, counts stay exact. */
  async function parkedProject(limits: { maxChildren: number; maxActiveDispatched: number }) {
    const projectId = await createProject(apis[0]!, newRepo());
    await db.run(sql`UPDATE projects SET node_labels = '["nowhere"]', max_children = ${limits.maxChildren},
      max_active_dispatched = ${limits.maxActiveDispatched} WHERE id = ${projectId}`);
    return projectId;
  }

  it("100 dispatch_task calls spread over three instances under a children limit of 5 create exactly 5", async () => {
    const projectId = await parkedProject({ maxChildren: 5, maxActiveDispatched: 50 });
    const parentId = await createRootTask(apis[1]!, projectId, "The parent of a hundred attempts");
    const token = await mintTaskToken(db, parentId);

    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call(i, token, "dispatch_task", { description: `Child attempt ${i}` })),
    );

    const created = results.filter((o) => o.result !== undefined);
    expect(created).toHaveLength(5);
    const refused = results.filter((o) => o.error !== undefined);
    expect(refused).toHaveLength(95);
    for (const r of refused) expect(r.error!.data).toMatchObject({ code: "limit_reached", limit: "maxChildren" });
    const [children] = await db.all<{ n: number }>(sql`SELECT count(*) AS n FROM tasks WHERE parent_id = ${parentId}`);
    expect(Number(children!.n)).toBe(5);
  });

  it("200 pairs of opposite add_dependency calls spread over three instances never store a cycle", async () => {
    const projectId = await parkedProject({ maxChildren: 400, maxActiveDispatched: 400 });
    const parentId = await createRootTask(apis[2]!, projectId, "The parent of many siblings");
    const token = await mintTaskToken(db, parentId);
    // The 400 siblings in one batch of the guarded statements (the dispatch race is the test above).
    const parent = (await db.query.tasks.findFirst({ where: eq(tasks.id, parentId) }))!;
    const made = Array.from({ length: 400 }, (_, i) =>
      childTaskStatements(db, {
        parentId,
        projectId,
        rootId: parent.rootId,
        depth: 1,
        mode: "task",
        title: `S${i}`,
        description: `S${i}`,
        dependsOn: [],
      }),
    );
    const [first, ...rest] = made.flatMap((m) => m.statements);
    await db.batch([first!, ...rest]);
    const children = made.map((m) => m.id);

    // Each pair's two opposite calls go to two different instances at the same moment.
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => [
        call(i, token, "add_dependency", { taskId: children[2 * i], dependsOnTaskId: children[2 * i + 1] }),
        call(i + 1, token, "add_dependency", { taskId: children[2 * i + 1], dependsOnTaskId: children[2 * i] }),
      ]).flat(),
    );

    for (let i = 0; i < 200; i++) {
      const pair = [results[2 * i]!, results[2 * i + 1]!];
      expect(
        pair.filter((o) => (o.result as { added?: boolean } | undefined)?.added === true),
        `pair ${i}`,
      ).toHaveLength(1);
      const lost = pair.filter((o) => o.error !== undefined);
      expect(lost, `pair ${i}`).toHaveLength(1);
      expect(lost[0]!.error!.message).toMatch(/cycle/);
    }
    const edges = await allEdges(db);
    expect(edges.filter((e) => children.includes(e.taskId))).toHaveLength(200);
    expect(findCycle(edges)).toBeUndefined();
  });

  it("a task created through one instance shows in the sidebar of a browser connected to another", async () => {
    const projectId = await parkedProject({ maxChildren: 5, maxActiveDispatched: 5 });
    browser = await launchBrowser();
    const viewer = apps[2]!;
    const { page } = await signInWithLink(browser, viewer.signInLink, viewer.baseUrl);
    await page.goto(`${viewer.baseUrl}/projects/${projectId}`);
    const shell = new AppShell(page);
    await shell.rail().waitFor();

    const latencies: string[] = [];
    for (let i = 0; i < 5; i++) {
      const asked = Date.now();
      const taskId = await createRootTask(apis[i % 2]!, projectId, `Made through instance ${(i % 2) + 1}, number ${i}`);
      const stored = Date.now();
      await shell.taskGroup(taskId).waitFor();
      latencies.push(`${Date.now() - stored} ms (${stored - asked} ms to store it)`);
    }
    console.log(`a task stored through another instance showed in the browser after ${latencies.join(", ")}`);
  });
  it("20 queued tasks with two instances scheduling: each is started exactly once", async () => {
    // The parked projects' tasks would fill the schedulers' candidate lists: they are done with.
    await db.run(sql`UPDATE tasks SET status = 'cancelled' WHERE status = 'queued'`);
    const projectId = await createProject(apis[0]!, newRepo());
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await apis[i % 3]!.post<{ id: string }>("/api/tasks", {
          projectId,
          prompt: scriptPrompt(`Task ${i}.`, [{ tool: "complete_task", args: { summary: `done ${i}` } }]),
          mode: "task",
        });
        expect(res.status).toBe(201);
        return res.body.id;
      }),
    );
    // Two local nodes of 10 places: all 20 are placed at once, by whichever scheduler gets there.
    const started = await Promise.all(
      ids.map((id, i) =>
        waitForTask(apis[i % 3]!, id, (t) => t.status !== "queued" && t.status !== "provisioning", 90_000),
      ),
    );
    expect(started.filter((t) => t.status === "failed")).toEqual([]);

    const starts = await db.all<{ taskId: string; claims: number; runs: number }>(sql`
      SELECT t.id AS taskId,
        (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.to_status = 'provisioning') AS claims,
        (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.to_status = 'running') AS runs
      FROM tasks t WHERE t.project_id = ${projectId}`);
    expect(starts).toHaveLength(20);
    for (const s of starts) {
      expect({ ...s, claims: Number(s.claims), runs: Number(s.runs) }).toEqual({ ...s, claims: 1, runs: 1 });
    }
    console.log(`20 tasks started on ${new Set(started.map((t) => t.nodeId)).size} node(s)`);
  });

  it("no call got a 5xx, an internal or unavailable error, or SQLite's busy text", () => {
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status >= 500).map((o) => `${o.status} ${o.raw.text}`)).toEqual([]);
    expect(outcomes.filter((o) => o.error?.data?.code === "internal" || o.error?.data?.code === "unavailable")).toEqual(
      [],
    );
    expect(outcomes.filter((o) => /SQLITE_BUSY|database is locked/.test(o.raw.text))).toEqual([]);
  });
});
