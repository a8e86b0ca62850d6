/**
 * `npm run bench:dispatch`: what the orchestration guards cost, on the real app (scheduler off).
 *
 * 1. Guarded `dispatch_task` calls through HTTP (MCP, task token, the one conditional INSERT):
 *    calls/s and p50/p99 latency at a fixed concurrency — beside the same guarded statements run
 *    in-process, and a plain INSERT of a task row through the same database client and file.
 *    Dispatch over HTTP is shown as a share of the in-process guarded batch (goal: at least 50 %),
 *    sent as the daemon's MCP bridge sends it (node:http, keep-alive), and from `fetch` beside it.
 * 2. `get_task_dependencies` and `add_dependency` latency, as a parent, on a project holding 10,000
 *    tasks and 20,000 dependency edges (seeded directly with batched INSERTs, acyclic):
 *    get_task_dependencies per page (100 tasks), walking every page of a 2,500-child view (goal: p50 under 20 ms).
 *
 * 3. The same dispatch run against three web app instances on one sqld (bench/dispatch-instances.ts).
 *
 * Figures only, no assertions. BENCH_DISPATCH_CALLS, BENCH_CONCURRENCY and BENCH_GRAPH_CALLS change the sizes.
 */
import { randomInt } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { newId } from "@/lib/ids";
import { childTaskStatements } from "@/lib/orchestrator/child-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureBuilt } from "../scripts/build-state";
import { openAppDb, ownerApi } from "../test/helpers/api";
import { startAppServer } from "../test/helpers/app-server";
import { makeGitRepo } from "../test/helpers/git";
import { callTool, createProject, createRootTask } from "../test/helpers/mcp";
import { makeTempDir } from "../test/helpers/temp-dir";
import { bridgeToolCall } from "./bridge-client";
import { benchDispatchInstances } from "./dispatch-instances";
import { percentile } from "./stats";

const CALLS = Number(process.env.BENCH_DISPATCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SERIAL_CALLS = Number(process.env.BENCH_SERIAL_CALLS ?? 300);
const GRAPH_CALLS = Number(process.env.BENCH_GRAPH_CALLS ?? 200);
// Whole walks through the pages of a 2,500-task view (25 pages each).
const GRAPH_WALKS = Number(process.env.BENCH_GRAPH_WALKS ?? 4);
// The most the project settings allow: 20 children per parent, 50 active dispatched tasks.
const MAX_CHILDREN = 20;
const MAX_ACTIVE = 50;
const PARENTS = 5; // 5 × 10 = 50 children per round: every call of a round fits the limits.
const GRAPH_PARENTS = 4;
const GRAPH_CHILDREN = 2_500; // 4 × 2,500 = 10,000 tasks
const GRAPH_EDGES = 20_000;

interface Timing {
  latencies: number[];
  wallMs: number;
  errors: number;
}

/** Runs `fn` over `items` with at most `concurrency` in flight; times each call and the whole. */
async function timed<T>(items: T[], concurrency: number, fn: (item: T) => Promise<boolean>): Promise<Timing> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const t0 = performance.now();
        const ok = await fn(item);
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started, errors };
}

function merge(parts: Timing[]): Timing {
  return {
    latencies: parts.flatMap((p) => p.latencies),
    wallMs: parts.reduce((s, p) => s + p.wallMs, 0),
    errors: parts.reduce((s, p) => s + p.errors, 0),
  };
}

const ms = (x: number) => `${x.toFixed(2)} ms`;
const rate = (t: Timing) => t.latencies.length / (t.wallMs / 1000);
function line(label: string, t: Timing): string {
  return `${label}: ${rate(t).toFixed(0)}/s; p50 ${ms(percentile(t.latencies, 50))}, p99 ${ms(percentile(t.latencies, 99))} (n=${t.latencies.length}${t.errors ? `, ${t.errors} errors` : ""})`;
}

/** Ends every active child of the parents (outside the timings), so the next round fits the limits again. */
async function cancelChildren(db: Db, parents: string[]): Promise<void> {
  const rows = await db.all<{ id: string }>(sql`
    SELECT id FROM tasks WHERE parent_id IN (${sql.join(
      parents.map((p) => sql`${p}`),
      sql`, `,
    )}) AND status = 'queued'`);
  for (const { id } of rows) {
    await transitionTask(db, {
      taskId: id,
      from: ["queued"],
      to: "cancelled",
      actor: { kind: "system" },
      reason: "bench round over",
    });
  }
}

/** Rounds of 50 calls (10 per parent), ended between rounds; `call` makes one child of a parent. */
async function rounds(
  db: Db,
  parents: string[],
  total: number,
  concurrency: number,
  call: (parentIndex: number, n: number) => Promise<boolean>,
) {
  const parts: Timing[] = [];
  for (let done = 0; done < total; done += MAX_ACTIVE) {
    const size = Math.min(MAX_ACTIVE, total - done);
    const items = Array.from({ length: size }, (_, i) => ({ parent: i % parents.length, n: done + i }));
    parts.push(await timed(items, concurrency, (it) => call(it.parent, it.n)));
    await cancelChildren(db, parents);
  }
  return merge(parts);
}

// As the daemon's MCP bridge sends its requests: Node's keep-alive connections.
const bridgeAgent = new http.Agent({ keepAlive: true });

async function main() {
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-dispatch-");
  const app = await startAppServer({ env: { SAM_SCHEDULER: "off" } });
  const db = openAppDb(app);
  try {
    const api = await ownerApi(app);
    const projectId = await createProject(api, makeGitRepo(path.join(scratch.dir, "repo")), {
      maxChildren: MAX_CHILDREN,
      maxActiveDispatched: MAX_ACTIVE,
    });
    const parents = await Promise.all(
      Array.from({ length: PARENTS }, (_, i) => createRootTask(api, projectId, `Parent ${i}`)),
    );
    const tokens = await Promise.all(parents.map((p) => mintTaskToken(db, p)));
    const description = "Implement the feature described in the issue, with tests.";

    // Warm-up: the routes compile their first request, the database pages come into the cache.
    await rounds(
      db,
      parents,
      100,
      CONCURRENCY,
      async (p, n) =>
        (await callTool(app.baseUrl, tokens[p]!, "dispatch_task", { description: `${description} ${n}` })).status ===
        200,
    );

    const parentRows = await db.all<{ id: string; rootId: string; depth: number }>(sql`
      SELECT id, root_id AS rootId, depth FROM tasks WHERE id IN (${sql.join(
        parents.map((p) => sql`${p}`),
        sql`, `,
      )})`);
    const byId = new Map(parentRows.map((r) => [r.id, r]));
    /** The three ways of making a task row, at one concurrency. */
    const measure = async (concurrency: number, calls: number) => {
      const http = await rounds(db, parents, calls, concurrency, async (p, n) => {
        const res = await callTool(app.baseUrl, tokens[p]!, "dispatch_task", { description: `${description} ${n}` });
        return res.result !== undefined;
      });
      const bridged = await rounds(
        db,
        parents,
        calls,
        concurrency,
        async (p, n) =>
          (await bridgeToolCall(bridgeAgent, app.baseUrl, tokens[p]!, "dispatch_task", {
            description: `${description} ${n}`,
          })) !== undefined,
      );

      const inProcess = await rounds(db, parents, calls, concurrency, async (p, n) => {
        const parent = byId.get(parents[p]!)!;
        const { statements } = childTaskStatements(db, {
          parentId: parent.id,
          projectId,
          rootId: parent.rootId,
          depth: parent.depth + 1,
          mode: "task",
          title: `In-process ${n}`,
          description: `${description} ${n}`,
          dependsOn: [],
        });
        const [inserted] = await db.batch(statements);
        return inserted.rowsAffected === 1;
      });

      // A plain INSERT of a task row (a root: it counts against no limit), same client, same file.
      const plain = await timed(
        Array.from({ length: calls }, (_, n) => n),
        concurrency,
        async (n) => {
          const id = newId();
          const res = await db.run(sql`
            INSERT INTO tasks (id, project_id, root_id, depth, mode, status, title, description, lineage_id)
            VALUES (${id}, ${projectId}, ${id}, 0, 'task', 'queued', ${`Plain ${n}`}, ${`${description} ${n}`}, ${id})`);
          return res.rowsAffected === 1;
        },
      );

      // The in-process phases keep the event loop busy (the file client is synchronous underneath): let
      // the HTTP client see the idle connections the server has closed meanwhile before using them again.
      await new Promise((r) => setTimeout(r, 200));
      return { http, bridged, inProcess, plain };
    };
    const busy = await measure(CONCURRENCY, CALLS);
    const serial = await measure(1, SERIAL_CALLS);

    // ---- the graph: 10,000 tasks, 20,000 edges, seeded directly.
    const graphProject = await createProject(api, makeGitRepo(path.join(scratch.dir, "graph")));
    const graphParents = await Promise.all(
      Array.from({ length: GRAPH_PARENTS }, (_, i) => createRootTask(api, graphProject, `Graph parent ${i}`)),
    );
    const seedStarted = performance.now();
    const children: string[][] = graphParents.map(() => Array.from({ length: GRAPH_CHILDREN }, () => newId()));
    const rows = graphParents.flatMap((parent, g) =>
      children[g]!.map((id, i) => ({ id, parent, title: `Graph task ${g}-${i}` })),
    );
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await db.run(sql`
        INSERT INTO tasks (id, project_id, parent_id, root_id, depth, mode, status, title, description, lineage_id)
        VALUES ${sql.join(
          chunk.map(
            (r) =>
              sql`(${r.id}, ${graphProject}, ${r.parent}, ${r.parent}, 1, 'task', 'queued', ${r.title}, ${r.title}, ${r.id})`,
          ),
          sql`, `,
        )}`);
    }
    // Edges only from a higher to a lower index among one parent's children: acyclic by construction.
    const edgeSet = new Set<string>();
    const edges: [string, string][] = [];
    const perGroup = GRAPH_EDGES / GRAPH_PARENTS;
    for (let g = 0; g < GRAPH_PARENTS; g++) {
      let made = 0;
      while (made < perGroup) {
        const i = randomInt(1, GRAPH_CHILDREN);
        const j = randomInt(0, i);
        const key = `${g}:${i}:${j}`;
        if (edgeSet.has(key)) continue;
        edgeSet.add(key);
        edges.push([children[g]![i]!, children[g]![j]!]);
        made++;
      }
    }
    for (let i = 0; i < edges.length; i += 1000) {
      await db.run(sql`
        INSERT INTO task_dependencies (task_id, depends_on_task_id)
        VALUES ${sql.join(
          edges.slice(i, i + 1000).map(([a, b]) => sql`(${a}, ${b})`),
          sql`, `,
        )}`);
    }
    const seedMs = performance.now() - seedStarted;
    const [counts] = await db.all<{ tasks: number; edges: number }>(sql`
      SELECT (SELECT count(*) FROM tasks WHERE project_id = ${graphProject} AND depth = 1) AS tasks,
        (SELECT count(*) FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.project_id = ${graphProject}) AS edges`);

    await new Promise((r) => setTimeout(r, 200));
    const parentToken = await mintTaskToken(db, graphParents[0]!);
    const group = children[0]!;
    const ok = async (name: string, args: Record<string, unknown>) =>
      (await callTool(app.baseUrl, parentToken, name, args)).result !== undefined;
    const refused = async (name: string, args: Record<string, unknown>) =>
      (await callTool(app.baseUrl, parentToken, name, args)).error !== undefined;
    /** Reads every page of a view, one at a time, timing each page; the pages' sizes in bytes. */
    const walk = async (args: Record<string, unknown>): Promise<{ timing: Timing; bytes: number[] }> => {
      const latencies: number[] = [];
      const bytes: number[] = [];
      let errors = 0;
      const started = performance.now();
      let cursor: string | undefined;
      do {
        const t0 = performance.now();
        const res = await callTool(app.baseUrl, parentToken, "get_task_dependencies", { ...args, cursor });
        latencies.push(performance.now() - t0);
        bytes.push(res.raw.text.length);
        if (res.result === undefined) errors++;
        cursor = (res.result as { nextCursor?: string } | undefined)?.nextCursor;
      } while (cursor);
      return { timing: { latencies, wallMs: performance.now() - started, errors }, bytes };
    };
    // Warm-up.
    await walk({});

    const seq = Array.from({ length: GRAPH_CALLS }, (_, n) => n);
    const walks = Array.from({ length: GRAPH_WALKS }, (_, n) => n);
    const ownWalks = [];
    for (const _ of walks) ownWalks.push(await walk({}));
    const childWalks = [];
    for (const n of walks) childWalks.push(await walk({ taskId: group[(n * 7919) % GRAPH_CHILDREN]! }));
    const ownView = merge(ownWalks.map((w) => w.timing));
    const childView = merge(childWalks.map((w) => w.timing));
    const pages = ownWalks[0]!.bytes;
    // New edges from a high index to a lower one: accepted after a cycle check that walks what the lower one reaches.
    const accepted = await timed(seq, 1, async () => {
      for (;;) {
        const i = randomInt(GRAPH_CHILDREN - 500, GRAPH_CHILDREN);
        const j = randomInt(GRAPH_CHILDREN - 1000, i);
        const key = `0:${i}:${j}`;
        if (edgeSet.has(key)) continue;
        edgeSet.add(key);
        return ok("add_dependency", { taskId: group[i]!, dependsOnTaskId: group[j]! });
      }
    });
    // The reverse of an existing edge: refused, the cycle found by the same check.
    const inGroup = new Set(group);
    const existing = edges.filter(([a]) => inGroup.has(a));
    const cycles = await timed(seq, 1, (n) => {
      const [a, b] = existing[(n * 104_729) % existing.length]!;
      return refused("add_dependency", { taskId: b, dependsOnTaskId: a });
    });

    console.log(`bench:dispatch — real app (scheduler off), libSQL file under ${app.dataDir}`);
    console.log(
      `  guarded dispatch_task over HTTP, ${CALLS} calls, concurrency ${CONCURRENCY}, ${PARENTS} parents, limits ${MAX_CHILDREN}/${MAX_ACTIVE} (children ended between rounds of ${MAX_ACTIVE}):`,
    );
    for (const [label, m] of [
      [`concurrency ${CONCURRENCY}`, busy],
      ["concurrency 1", serial],
    ] as const) {
      console.log(`    ${label}:`);
      console.log(`      ${line("dispatch_task (MCP over HTTP from the daemon's bridge, node:http)", m.bridged)}`);
      console.log(`      ${line("dispatch_task (MCP over HTTP from fetch)", m.http)}`);
      console.log(`      ${line("the same guarded batch in-process (no HTTP/MCP)", m.inProcess)}`);
      console.log(`      ${line("plain INSERT of a task row, same client and file", m.plain)}`);
      console.log(
        `      dispatch_task over HTTP from the bridge / the same guarded batch in-process: ${((100 * rate(m.bridged)) / rate(m.inProcess)).toFixed(0)} % of its rate (goal ≥ 50 %); from fetch: ${((100 * rate(m.http)) / rate(m.inProcess)).toFixed(0)} %`,
      );
      console.log(
        `      ratio dispatch_task / plain INSERT: throughput 1/${(rate(m.plain) / rate(m.http)).toFixed(1)}, ` +
          `p50 ${(percentile(m.http.latencies, 50) / percentile(m.plain.latencies, 50)).toFixed(1)}×, ` +
          `p99 ${(percentile(m.http.latencies, 99) / percentile(m.plain.latencies, 99)).toFixed(1)}×; ` +
          `guarded batch in-process / plain INSERT p50 ${(percentile(m.inProcess.latencies, 50) / percentile(m.plain.latencies, 50)).toFixed(1)}×`,
      );
    }
    console.log(
      `  graph: ${counts?.tasks} tasks, ${counts?.edges} edges (${GRAPH_PARENTS} parents × ${GRAPH_CHILDREN} children), seeded in ${(seedMs / 1000).toFixed(1)} s; calls as a parent, one at a time:`,
    );
    const pageLine = (label: string, t: Timing) =>
      `${label}: p50 ${ms(percentile(t.latencies, 50))}, p90 ${ms(percentile(t.latencies, 90))}, p99 ${ms(percentile(t.latencies, 99))} per page (n=${t.latencies.length} pages${t.errors ? `, ${t.errors} errors` : ""})`;
    console.log(
      `    ${pageLine(`get_task_dependencies {} by pages (the parent's view: ${GRAPH_CHILDREN} children in ${pages.length} pages, ${(Math.max(...pages) / 1024).toFixed(0)} KiB the largest page, ${(pages.reduce((a, b) => a + b, 0) / 1024).toFixed(0)} KiB all)`, ownView)} (goal p50 < 20 ms)`,
    );
    console.log(
      `    ${pageLine(`get_task_dependencies {taskId: a child} by pages (${GRAPH_CHILDREN - 1} siblings)`, childView)}`,
    );
    console.log(`    ${line("add_dependency, accepted (cycle check + insert)", accepted)}`);
    console.log(`    ${line("add_dependency, refused as a cycle", cycles)}`);
  } catch (err) {
    console.error(`bench:dispatch failed; the app's output ends with:\n${app.output().slice(-4000)}`);
    throw err;
  } finally {
    bridgeAgent.destroy();
    db.$client.close();
    await app.stop();
    scratch.cleanup();
  }
}

await main();
console.log("  the same dispatch run against three instances on one sqld:");
await benchDispatchInstances({ concurrency: CONCURRENCY });
