/**
 * `npm run bench:start`: how long from creating a task to the agent's first event on a warm local
 * node, beside the floor for the same repository: cloning it from the node's mirror plus spawning
 * a Node process that prints one line.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import { agentEvents, chatSessions } from "@/db/schema";
import { ensureBuilt } from "../scripts/build-state";
import { isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../test/helpers/api";
import { startAppServer } from "../test/helpers/app-server";
import { git, makeGitRepo } from "../test/helpers/git";
import { makeTempDir } from "../test/helpers/temp-dir";
import { describe, fmt } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const FILES = Number(process.env.BENCH_FILES ?? 3000);

function makeBigRepo(dir: string): string {
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`src/mod${i % 50}/file${i}.ts`] = `export const value${i} = ${i};\n`;
  return makeGitRepo(dir, { files });
}

async function floorOnce(mirror: string, scratch: string, i: number): Promise<number> {
  const dest = path.join(scratch, `floor-${i}`);
  const started = performance.now();
  execFileSync("git", ["clone", "-q", mirror, dest]);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", "console.log('ready')"], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.once("data", () => resolve());
    child.once("error", reject);
  });
  const elapsed = performance.now() - started;
  fs.rmSync(dest, { recursive: true, force: true });
  return elapsed;
}

async function main() {
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-start-");
  const app = await startAppServer({ env: { SAM_TICK_MS: "1000", SAM_NODE_CAPACITY: "4" } });
  const db = openAppDb(app);
  try {
    const repo = makeBigRepo(path.join(scratch.dir, "repo"));
    const fileCount = git(repo, "ls-files").split("\n").length;
    const api = await ownerApi(app);
    const project = await api.post<{ id: string }>("/api/projects", { repo });

    const runTask = async () => {
      const t0 = performance.now();
      const created = await api.post<{ id: string }>("/api/tasks", {
        projectId: project.body.id,
        prompt: scriptPrompt("bench", [{ say: "first" }]),
      });
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, created.body.id) });
      let firstEvent: number | undefined;
      while (firstEvent === undefined) {
        const row = await db.query.agentEvents.findFirst({
          where: and(eq(agentEvents.sessionId, session!.id), inArray(agentEvents.type, ["agent_text", "tool_call"])),
          columns: { seq: true },
        });
        if (row) firstEvent = performance.now() - t0;
        else await new Promise((r) => setTimeout(r, 2));
      }
      await waitForTask(api, created.body.id, isTerminal);
      return firstEvent;
    };

    // Warm-up: the first task starts the node and fills its mirror.
    await runTask();
    const latencies: number[] = [];
    for (let i = 0; i < RUNS; i++) latencies.push(await runTask());

    const mirrorsRoot = fs
      .readdirSync(path.join(app.dataDir, "nodes"))
      .map((n) => path.join(app.dataDir, "nodes", n, "mirrors"))
      .find((d) => fs.existsSync(d));
    const mirror = path.join(mirrorsRoot!, fs.readdirSync(mirrorsRoot!)[0]!);
    const floors: number[] = [];
    for (let i = 0; i < RUNS; i++) floors.push(await floorOnce(mirror, scratch.dir, i));

    const task = describe(latencies);
    const floor = describe(floors);
    console.log(`bench:start — repo of ${fileCount} files, ${RUNS} runs each, warm local node, under ${scratch.dir}`);
    console.log("  (the data dir and the repo share the temp dir: set TMPDIR to measure another disk)");
    console.log(
      `  task creation → first agent event: median ${fmt(task.median)}, p90 ${fmt(task.p90)} (min ${fmt(task.min)}, max ${fmt(task.max)})`,
    );
    console.log(`  floor (clone from mirror + node prints a line): median ${fmt(floor.median)}, p90 ${fmt(floor.p90)}`);
    console.log(
      `  ratio (median / floor median): ${(task.median / floor.median).toFixed(2)} (goal < 2); median goal < 300 ms`,
    );
  } finally {
    db.$client.close();
    await app.stop();
    scratch.cleanup();
  }
}

await main();
