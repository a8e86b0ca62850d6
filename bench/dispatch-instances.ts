/**
 * The dispatch run of `npm run bench:dispatch` against three web app instances on one sqld (with
 * authentication, as the README's recipe): guarded `dispatch_task` calls over HTTP spread round robin
 * over the instances, in rounds of 50 that fit the limits (ended between rounds, outside the timings).
 * Prints calls/s, p50/p90/p99 and the calls that did not succeed. bench/dispatch.ts calls
 * `benchDispatchInstances` at its end; `npx tsx bench/dispatch-instances.ts` runs it alone.
 * BENCH_INSTANCE_CALLS and BENCH_CONCURRENCY change the sizes.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { openDb } from "@/db/client";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { ensureBuilt } from "../scripts/build-state";
import { ownerApiOn } from "../test/helpers/api";
import { type AppServer, startAppServer } from "../test/helpers/app-server";
import { makeGitRepo } from "../test/helpers/git";
import { callTool, createProject, createRootTask } from "../test/helpers/mcp";
import { startSqld } from "../test/helpers/sqld";
import { makeTempDir } from "../test/helpers/temp-dir";
import { percentile } from "./stats";

const INSTANCES = 3;
const PARENTS = 5;
const ROUND = 50; // 5 parents × 10 children: every call of a round fits the limits below.

export interface InstancesFigures {
  callsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  calls: number;
  errors: string[];
}

export async function benchDispatchInstances(
  opts: { calls?: number; concurrency?: number } = {},
): Promise<InstancesFigures> {
  const calls = opts.calls ?? Number(process.env.BENCH_INSTANCE_CALLS ?? 1000);
  const concurrency = opts.concurrency ?? Number(process.env.BENCH_CONCURRENCY ?? 8);
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-instances-");
  const sqld = await startSqld(scratch.dir);
  const db = openDb({ url: sqld.url, authToken: sqld.authToken });
  const apps: AppServer[] = [];
  try {
    const env = {
      SAM_SCHEDULER: "off",
      DATABASE_URL: sqld.url,
      DATABASE_AUTH_TOKEN: sqld.authToken,
      AUTH_SECRET: randomBytes(32).toString("base64url"),
      SAM_SECRET_KEY: randomBytes(32).toString("base64"),
    };
    apps.push(await startAppServer({ env }));
    apps.push(...(await Promise.all(Array.from({ length: INSTANCES - 1 }, () => startAppServer({ env })))));
    const api = await ownerApiOn(apps[0]!.baseUrl, db);
    const projectId = await createProject(api, makeGitRepo(path.join(scratch.dir, "repo")), {
      maxChildren: 20,
      maxActiveDispatched: 50,
    });
    const parents = await Promise.all(
      Array.from({ length: PARENTS }, (_, i) => createRootTask(api, projectId, `Parent ${i}`)),
    );
    const tokens = await Promise.all(parents.map((p) => mintTaskToken(db, p)));
    const parentList = sql.join(
      parents.map((p) => sql`${p}`),
      sql`, `,
    );
    const endRound = () =>
      db.run(sql`UPDATE tasks SET status = 'cancelled' WHERE parent_id IN (${parentList}) AND status = 'queued'`);

    const latencies: number[] = [];
    const errors: string[] = [];
    let wallMs = 0;
    const run = async (total: number, record: boolean) => {
      for (let done = 0; done < total; done += ROUND) {
        const size = Math.min(ROUND, total - done);
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: Math.min(concurrency, size) }, async () => {
            while (next < size) {
              const n = done + next++;
              const t0 = performance.now();
              const outcome = await callTool(apps[n % INSTANCES]!.baseUrl, tokens[n % PARENTS]!, "dispatch_task", {
                description: `Implement the feature described in the issue, with tests. ${n}`,
              });
              if (!record) continue;
              latencies.push(performance.now() - t0);
              if (outcome.result === undefined) errors.push(`HTTP ${outcome.status} ${outcome.raw.text.slice(0, 200)}`);
            }
          }),
        );
        if (record) wallMs += performance.now() - started;
        await endRound();
      }
    };
    // Warm-up: every instance compiles its first MCP request.
    await run(ROUND * 2, false);
    await run(calls, true);

    const figures: InstancesFigures = {
      callsPerSecond: latencies.length / (wallMs / 1000),
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      calls: latencies.length,
      errors,
    };
    const ms = (x: number) => `${x.toFixed(2)} ms`;
    console.log(
      `dispatch_task over HTTP, ${INSTANCES} instances on one sqld (concurrency ${concurrency}): ` +
        `${figures.callsPerSecond.toFixed(0)}/s; p50 ${ms(figures.p50)}, p90 ${ms(figures.p90)}, p99 ${ms(figures.p99)} ` +
        `(n=${figures.calls}, ${errors.length} errors)`,
    );
    for (const [error, count] of countBy(errors)) console.log(`  ${count} × ${error}`);
    return figures;
  } finally {
    db.$client.close();
    await Promise.all(apps.map((app) => app.stop()));
    await sqld.stop();
    scratch.cleanup();
  }
}

function countBy(items: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchDispatchInstances().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
