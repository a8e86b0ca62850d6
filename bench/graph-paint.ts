/**
 * The task graph of a 500-task tree: time from navigation start to the first frame with every card
 * laid out (the page's `sam:graph-ready` performance mark), in Chromium against the production
 * build. `npx tsx bench/graph-paint.ts` runs it alone; `measureGraphPaint` runs it in a bench that
 * has an app and a signed-in browser already.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext } from "playwright-core";
import type { Db } from "@/db/client";
import { ensureInstanceOwner } from "@/lib/users";
import { ensureBuilt } from "../scripts/build-state";
import { openAppDb, ownerApi } from "../test/helpers/api";
import { type AppServer, startAppServer } from "../test/helpers/app-server";
import { launchBrowser, signInWithLink } from "../test/helpers/browser";
import { makeGitRepo } from "../test/helpers/git";
import { seedTaskTree } from "../test/helpers/seed-task-tree";
import { makeTempDir } from "../test/helpers/temp-dir";
import { describe, fmt } from "./stats";

export interface GraphPaint {
  /** How many tasks the tree had (and cards every run showed). */
  tasks: number;
  /** Navigation start → every card laid out and painted, one per run (ms). */
  samples: number[];
  /** Navigation start → the page's HTML received in full (the tree read and laid out), one per run (ms). */
  response: number[];
  median: number;
  p90: number;
}

/**
 * Seeds a tree of `tasks` tasks in a new project of `app` (whose scheduler must be off, so the tree
 * stays as seeded) and opens its graph page `runs` times in `context` (signed in as the instance
 * owner) after one warm-up run.
 */
export async function measureGraphPaint({
  app,
  db,
  context,
  runs = 10,
  tasks = 500,
}: {
  app: AppServer;
  db: Db;
  context: BrowserContext;
  runs?: number;
  tasks?: number;
}): Promise<GraphPaint> {
  const scratch = makeTempDir("sam-bench-graph-");
  try {
    const api = await ownerApi(app);
    const repo = makeGitRepo(path.join(scratch.dir, "repo"), { files: { "README.md": "# graph bench\n" } });
    const created = await api.post<{ id: string }>("/api/projects", { repo });
    if (created.status !== 201) throw new Error(`POST /api/projects: ${created.status}`);
    const projectId = created.body.id;
    const owner = await ensureInstanceOwner(db);
    const tree = await seedTaskTree(db, { projectId, userId: owner.id, count: tasks });
    const url = `${app.baseUrl}/projects/${projectId}/tasks/${tree.rootId}/graph`;

    const samples: number[] = [];
    const response: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(url, { waitUntil: "commit" });
      await page.locator('[data-testid="task-graph"][data-ready="true"]').waitFor({ timeout: 60_000 });
      const { readyAt, responseEnd, cards } = await page.evaluate(() => ({
        readyAt: performance.getEntriesByName("sam:graph-ready")[0]?.startTime ?? Number.NaN,
        responseEnd: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseEnd,
        cards: document.querySelectorAll('[data-testid="graph-node"]').length,
      }));
      await page.close();
      if (cards !== tasks) throw new Error(`The graph showed ${cards} cards, not ${tasks}`);
      if (i > 0) {
        samples.push(readyAt);
        response.push(responseEnd);
      }
    }
    const { median, p90 } = describe(samples);
    return { tasks, samples, response, median, p90 };
  } finally {
    scratch.cleanup();
  }
}

async function main() {
  await ensureBuilt();
  // No scheduler: the seeded tree stays as seeded.
  const app = await startAppServer({ env: { SAM_SCHEDULER: "off" } });
  const db = openAppDb(app);
  const browser = await launchBrowser();
  try {
    const { context } = await signInWithLink(browser, app.signInLink, app.baseUrl);
    const result = await measureGraphPaint({ app, db, context, runs: Number(process.env.BENCH_RUNS ?? 10) });
    const summary = (samples: number[]) => {
      const s = describe(samples);
      return `median ${fmt(s.median)}, p90 ${fmt(s.p90)} (min ${fmt(s.min)}, max ${fmt(s.max)}, n=${s.n})`;
    };
    console.log(`bench:graph — the task graph page of a ${result.tasks}-task tree, in Chromium`);
    console.log(`  navigation → HTML received:                      ${summary(result.response)}`);
    console.log(`  navigation → every card laid out and painted:    ${summary(result.samples)} (goal < 1 s)`);
  } finally {
    await browser.close();
    db.$client.close();
    await app.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
