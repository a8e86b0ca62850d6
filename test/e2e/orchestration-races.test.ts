import path from "node:path";
import { and, eq, gt, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { openDb } from "@/db/client";
import { projects, taskDependencies, tasks } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { ACTIVE_STATUSES } from "@/lib/tasks/statuses";
import { transitionTask } from "@/lib/tasks/transition";
import { type ApiClient, openAppDb, ownerApiOn } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { makeGitRepo } from "../helpers/git";
import {
  allEdges,
  callTool,
  callToolOk,
  createProject,
  createRootTask,
  findCycle,
  orchestrationViolations,
  type ToolOutcome,
} from "../helpers/mcp";
import { type SqldServer, startSqld } from "../helpers/sqld";
import { makeTempDir } from "../helpers/temp-dir";

/**
 * The guarded statements under real concurrency: many HTTP requests at once against the real app
 * (scheduler off, so nothing finishes by itself and every count is exact).
 *
 * On the embedded libSQL file (the default deployment) the client is synchronous underneath, so one
 * process never interleaves two requests' database calls: a check-then-insert done in JavaScript
 * would pass there by luck. Against a libSQL server (sqld, DATABASE_URL) every statement is a network
 * round trip and concurrent requests really interleave, so only checks made inside the guarded
 * statements hold; there the writes also contend for sqld's lock, which the database layer waits out,
 * so every call gets its real answer.
 */
const BACKENDS = ["file", "sqld"] as const;

describe.each(BACKENDS)("orchestration under concurrent calls (%s database)", (backend) => {
  // Against sqld every statement is a network round trip, so fewer calls already race as hard, and
  // many-instances.test.ts sends 200 pairs there across three instances.
  const PAIRS = backend === "sqld" ? 50 : 200;
  const TRIANGLES = backend === "sqld" ? 25 : 100;
  let app: AppServer;
  let api: ApiClient;
  let db: Db;
  let sqld: SqldServer | undefined;
  const repos = makeTempDir("sam-races-repos-");
  let repoCount = 0;
  const newRepo = () => makeGitRepo(path.join(repos.dir, `repo-${++repoCount}`));

  beforeAll(async () => {
    if (backend === "sqld") {
      sqld = await startSqld(repos.dir);
      app = await startAppServer({
        env: { SAM_SCHEDULER: "off", DATABASE_URL: sqld.url, DATABASE_AUTH_TOKEN: sqld.authToken },
      });
      db = openDb({ url: sqld.url, authToken: sqld.authToken });
    } else {
      app = await startAppServer({ env: { SAM_SCHEDULER: "off" } });
      db = openAppDb(app);
    }
    api = await ownerApiOn(app.baseUrl, db);
  });
  afterAll(async () => {
    db?.$client.close();
    await app?.stop();
    await sqld?.stop();
    repos.cleanup();
  });

  const dispatch = (token: string, description: string) =>
    callTool(app.baseUrl, token, "dispatch_task", { description });
  const noServerErrors = (outcomes: ToolOutcome[]) =>
    expect(outcomes.filter((o) => o.status >= 500).map((o) => `${o.status} ${o.raw.text}`)).toEqual([]);

  /**
   * A race's calls, sorted: every call gets a real answer (no 5xx, no internal error, no busy
   * database), and the refusals are the answers the rules give.
   */
  async function race(calls: () => Promise<ToolOutcome[]>) {
    const outcomes = await calls();
    noServerErrors(outcomes);
    expect(outcomes.filter((o) => o.error?.data?.code === "internal" || o.error?.data?.code === "unavailable")).toEqual(
      [],
    );
    expect(outcomes.filter((o) => /SQLITE_BUSY|database is locked/.test(o.raw.text))).toEqual([]);
    return { outcomes, refused: outcomes.filter((o) => o.error !== undefined) };
  }

  const mustCall = <T>(token: string, name: string, args: Record<string, unknown>) =>
    callToolOk<T>(app.baseUrl, token, name, args);

  it("100 dispatch_task calls at once by one parent with a children limit of 5 create exactly 5 children", async () => {
    const projectId = await createProject(api, newRepo(), { maxChildren: 5, maxActiveDispatched: 50 });
    const parentId = await createRootTask(api, projectId, "The parent of a hundred attempts");
    const token = await mintTaskToken(db, parentId);

    const { outcomes, refused } = await race(() =>
      Promise.all(Array.from({ length: 100 }, (_, i) => dispatch(token, `Child attempt ${i}`))),
    );

    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    const created = outcomes.filter((o) => o.result !== undefined).map((o) => (o.result as { taskId: string }).taskId);
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(95);
    for (const r of refused) {
      expect(r.error!.data).toMatchObject({ code: "limit_reached", limit: "maxChildren", value: 5 });
      expect(r.error!.message).toMatch(/Children limit reached: .*the limit is 5/);
    }

    const children = await db.query.tasks.findMany({ where: eq(tasks.parentId, parentId) });
    expect(children.map((c) => c.id).sort()).toEqual([...created].sort());
    expect(children.every((c) => c.status === "queued" && c.depth === 1)).toBe(true);
    // No phantom rows: the refused 95 left no session, message or event behind.
    const [orphans] = await db.all<{ n: number }>(sql`
      SELECT (SELECT count(*) FROM chat_sessions s WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = s.task_id))
        + (SELECT count(*) FROM task_events e WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = e.task_id)) AS n`);
    expect(Number(orphans!.n)).toBe(0);
    const [sessions] = await db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM chat_sessions WHERE task_id IN (SELECT id FROM tasks WHERE parent_id = ${parentId})`,
    );
    expect(Number(sessions!.n)).toBe(5);
    expect(await orchestrationViolations(db)).toEqual([]);
  });

  it("3 parents × 20 concurrent dispatches with a project limit of 10 create exactly 10 active dispatched tasks", async () => {
    const projectId = await createProject(api, newRepo(), { maxChildren: 20, maxActiveDispatched: 10 });
    const parents = await Promise.all([1, 2, 3].map((n) => createRootTask(api, projectId, `Parent ${n}`)));
    const tokens = await Promise.all(parents.map((p) => mintTaskToken(db, p)));

    const calls = tokens.flatMap((token, p) =>
      Array.from({ length: 20 }, (_, i) => ({ token, description: `P${p} child ${i}` })),
    );
    // Interleave the parents so that their calls really compete.
    calls.sort((a, b) => Number(a.description.split(" ")[2]) - Number(b.description.split(" ")[2]));
    const { outcomes, refused } = await race(() => Promise.all(calls.map((c) => dispatch(c.token, c.description))));

    const created = outcomes.filter((o) => o.result !== undefined);
    expect(created).toHaveLength(10);
    expect(refused).toHaveLength(50);
    for (const r of refused) {
      expect(r.error!.data).toMatchObject({ code: "limit_reached", limit: "maxActiveDispatched", value: 10 });
      expect(r.error!.message).toMatch(/Project limit reached: .*the limit is 10/);
    }
    const active = await db
      .select({ id: tasks.id, parentId: tasks.parentId })
      .from(tasks)
      .where(and(eq(tasks.projectId, projectId), gt(tasks.depth, 0), inArray(tasks.status, ACTIVE_STATUSES)));
    expect(active).toHaveLength(10);
    const [all] = await db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM tasks WHERE project_id = ${projectId} AND depth > 0`,
    );
    expect(Number(all!.n)).toBe(10);
    expect(await orchestrationViolations(db)).toEqual([]);
  });

  /** A project whose parent has `n` queued children, dispatched through MCP. The API caps limits at 20/50; the DB does not. */
  async function parentWithChildren(n: number): Promise<{ parentId: string; token: string; children: string[] }> {
    const projectId = await createProject(api, newRepo());
    await db.update(projects).set({ maxChildren: n, maxActiveDispatched: n }).where(eq(projects.id, projectId));
    const parentId = await createRootTask(api, projectId, "The parent of many siblings");
    const token = await mintTaskToken(db, parentId);
    const children: string[] = [];
    for (let wave = 0; wave < n; wave += 50) {
      const ids = await Promise.all(
        Array.from({ length: Math.min(50, n - wave) }, (_, i) =>
          mustCall<{ taskId: string }>(token, "dispatch_task", { description: `Sibling ${wave + i}` }),
        ),
      );
      children.push(...ids.map((r) => r.taskId));
    }
    return { parentId, token, children };
  }

  /** Reads the whole edge table over and over while `work` runs; every read must be acyclic. */
  async function watchForCycles<T>(work: Promise<T>): Promise<{ value: T; reads: number; cycles: string[][] }> {
    let done = false;
    const cycles: string[][] = [];
    let reads = 0;
    const watcher = (async () => {
      while (!done) {
        const cycle = findCycle(await allEdges(db));
        reads++;
        if (cycle) cycles.push(cycle);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      return { value: await work, reads, cycles };
    } finally {
      done = true;
      await watcher;
    }
  }

  it(`${PAIRS} pairs of opposite add_dependency calls at once never store a cycle: one edge per pair, the other refused`, async () => {
    const { parentId, token, children } = await parentWithChildren(2 * PAIRS);
    const pairs = Array.from({ length: PAIRS }, (_, i) => [children[2 * i]!, children[2 * i + 1]!] as const);
    const add = (taskId: string, dependsOnTaskId: string) =>
      callTool(app.baseUrl, token, "add_dependency", { taskId, dependsOnTaskId });

    // All the calls at once, each pair's two opposite calls next to each other.
    const { value, reads, cycles } = await watchForCycles(
      race(() => Promise.all(pairs.flatMap(([a, b]) => [add(a, b), add(b, a)]))),
    );
    const { outcomes } = value;

    expect(cycles).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    for (let i = 0; i < pairs.length; i++) {
      const pair = [outcomes[2 * i]!, outcomes[2 * i + 1]!];
      const won = pair.filter((o) => (o.result as { added?: boolean } | undefined)?.added === true);
      const lost = pair.filter((o) => o.error !== undefined);
      expect(won, `pair ${i}`).toHaveLength(1);
      expect(lost, `pair ${i}`).toHaveLength(1);
      expect(lost[0]!.error!.data?.code).toBe("conflict");
      expect(lost[0]!.error!.message).toMatch(/cycle/);
    }
    const edges = await db.select().from(taskDependencies).where(inArray(taskDependencies.taskId, children));
    expect(edges).toHaveLength(PAIRS);
    for (const [a, b] of pairs) {
      expect(
        edges.filter((e) => (e.taskId === a && e.dependsOnTaskId === b) || (e.taskId === b && e.dependsOnTaskId === a))
          .length,
      ).toBeLessThanOrEqual(1);
    }
    expect(findCycle(await allEdges(db))).toBeUndefined();
    expect(await db.query.tasks.findFirst({ where: eq(tasks.id, parentId) })).toMatchObject({ status: "queued" });
  });

  it("triangles closed from three sides at once, and the same edge added twice at once, stay acyclic and single", async () => {
    const { token, children } = await parentWithChildren(3 * TRIANGLES);
    const add = (taskId: string, dependsOnTaskId: string) =>
      callTool(app.baseUrl, token, "add_dependency", { taskId, dependsOnTaskId });
    const triangles = Array.from(
      { length: TRIANGLES },
      (_, i) => [children[3 * i]!, children[3 * i + 1]!, children[3 * i + 2]!] as const,
    );

    const { value, cycles } = await watchForCycles(
      race(() => Promise.all(triangles.flatMap(([a, b, c]) => [add(a, b), add(b, c), add(c, a), add(a, b)]))),
    );
    const { outcomes } = value;

    expect(cycles).toEqual([]);
    const edges = await allEdges(db);
    expect(findCycle(edges)).toBeUndefined();
    for (let i = 0; i < triangles.length; i++) {
      const [a, b, c] = triangles[i]!;
      const group = outcomes.slice(4 * i, 4 * i + 4);
      const mine = edges.filter((e) => [a, b, c].includes(e.taskId));
      // Two of the three sides, never all three; the duplicate a→b is stored once.
      expect(mine, `triangle ${i}`).toHaveLength(2);
      const refused = group.filter((o) => o.error !== undefined);
      expect(refused.length, `triangle ${i}`).toBeGreaterThan(0);
      for (const r of refused) expect(r.error!.message).toMatch(/cycle/);
      const [ab1, bc, ca, ab2] = group;
      if (mine.some((e) => e.taskId === a && e.dependsOnTaskId === b)) {
        // a→b got in: one of its two calls added it, the other found it there; b→c or c→a was refused.
        const abResults = [ab1, ab2].map((o) => (o!.result as { added: boolean } | undefined)?.added);
        expect(abResults.sort()).toEqual([false, true]);
        expect(refused, `triangle ${i}`).toHaveLength(1);
      } else {
        // a→b came last: both of its calls were refused, the other two sides are stored.
        expect([ab1, ab2].every((o) => o!.error !== undefined)).toBe(true);
        expect([bc, ca].every((o) => (o!.result as { added?: boolean } | undefined)?.added === true)).toBe(true);
      }
    }
  });
  it("10 retry_subtask calls at once on one failed child make exactly one replacement, and its dependents follow it", async () => {
    const projectId = await createProject(api, newRepo(), { maxChildren: 20, maxActiveDispatched: 50 });
    const parentId = await createRootTask(api, projectId, "A parent that retries at once");
    const token = await mintTaskToken(db, parentId);
    const flaky = (await mustCall<{ taskId: string }>(token, "dispatch_task", { description: "Flaky" })).taskId;
    const waiting = (
      await mustCall<{ taskId: string }>(token, "dispatch_task", { description: "Waits", dependsOn: [flaky] })
    ).taskId;
    const reason = "it broke";
    expect(
      await transitionTask(db, {
        taskId: flaky,
        from: ["queued"],
        to: "failed",
        actor: { kind: "system" },
        reason,
        set: { failureReason: reason },
      }),
    ).toBe(true);

    const { outcomes, refused } = await race(() =>
      Promise.all(Array.from({ length: 10 }, () => callTool(app.baseUrl, token, "retry_subtask", { taskId: flaky }))),
    );

    const ok = outcomes.filter((o) => o.result !== undefined);
    expect(ok).toHaveLength(1);
    for (const o of refused) {
      expect(o.error!.data?.code).toBe("conflict");
      expect(o.error!.message).toMatch(/already retried as/);
    }
    const replacement = (ok[0]!.result as { taskId: string }).taskId;
    expect(await db.select({ id: tasks.id }).from(tasks).where(eq(tasks.retryOfId, flaky))).toEqual([
      { id: replacement },
    ]);
    expect(
      await db
        .select({ on: taskDependencies.dependsOnTaskId })
        .from(taskDependencies)
        .where(eq(taskDependencies.taskId, waiting)),
    ).toEqual([{ on: replacement }]);
    expect(await orchestrationViolations(db)).toEqual([]);
  });
});
