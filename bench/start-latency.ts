/**
 * `npm run bench:start`: how long from creating a task to the agent's first event on a warm local
 * node, with the sandbox on and off, beside the floor for the same repository (cloning it from the
 * node's mirror plus spawning a Node process that prints one line); and what the sandbox adds to
 * each shell command the agent runs.
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
import { describe, fmt, percentile } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const FILES = Number(process.env.BENCH_FILES ?? 3000);
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 200);

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

/** A warm local node of an app whose sandbox is `sandbox`, and the measurements made on it. */
async function openNode(sandbox: "on" | "off", repo: string) {
  const app = await startAppServer({ env: { SAM_TICK_MS: "1000", SAM_NODE_CAPACITY: "4", SAM_SANDBOX: sandbox } });
  const db = openAppDb(app);
  const api = await ownerApi(app);
  const project = await api.post<{ id: string }>("/api/projects", { repo });
  const sessionOf = async (taskId: string) =>
    (await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) }))!.id;
  const create = async (steps: unknown[]) =>
    (await api.post<{ id: string }>("/api/tasks", { projectId: project.body.id, prompt: scriptPrompt("bench", steps) }))
      .body.id;

  return {
    /** Task creation → the agent's first event. */
    async startLatency(): Promise<number> {
      const t0 = performance.now();
      const taskId = await create([{ say: "first" }]);
      const sessionId = await sessionOf(taskId);
      let firstEvent: number | undefined;
      while (firstEvent === undefined) {
        const row = await db.query.agentEvents.findFirst({
          where: and(eq(agentEvents.sessionId, sessionId), inArray(agentEvents.type, ["agent_text", "tool_call"])),
          columns: { seq: true },
        });
        if (row) firstEvent = performance.now() - t0;
        else await new Promise((r) => setTimeout(r, 2));
      }
      await waitForTask(api, taskId, isTerminal);
      return firstEvent;
    },

    /** One task running COMMANDS trivial shell commands: the shell tool's own time for each. */
    async commandTimes(): Promise<number[]> {
      const taskId = await create(
        Array.from({ length: COMMANDS }, () => ({ tool: "shell", args: { command: "true" } })),
      );
      await waitForTask(api, taskId, isTerminal, 300_000);
      const results = await db.query.agentEvents.findMany({
        where: and(eq(agentEvents.sessionId, await sessionOf(taskId)), eq(agentEvents.type, "tool_result")),
      });
      return results.map((row) => (JSON.parse(row.payload) as { output: { durationMs: number } }).output.durationMs);
    },

    /** The node's mirror of the repository. */
    mirror(): string {
      const nodes = path.join(app.dataDir, "nodes");
      const mirrors = fs
        .readdirSync(nodes)
        .map((n) => path.join(nodes, n, "mirrors"))
        .find((d) => fs.existsSync(d))!;
      return path.join(mirrors, fs.readdirSync(mirrors)[0]!);
    },

    async close(): Promise<void> {
      db.$client.close();
      await app.stop();
    },
  };
}

async function main() {
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-start-");
  try {
    const repo = makeBigRepo(path.join(scratch.dir, "repo"));
    const fileCount = git(repo, "ls-files").split("\n").length;
    // Both nodes run side by side and take turns, so neither gets a quieter disk or page cache.
    const nodes = { on: await openNode("on", repo), off: await openNode("off", repo) };
    const on = { latencies: [] as number[], commands: [] as number[] };
    const off = { latencies: [] as number[], commands: [] as number[] };
    const floors: number[] = [];
    try {
      // Warm-up: the first task starts each node and fills its mirror.
      await nodes.on.startLatency();
      await nodes.off.startLatency();
      const mirror = nodes.on.mirror();
      for (let i = 0; i < RUNS; i++) {
        const order = i % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
        for (const which of order) (which === "on" ? on : off).latencies.push(await nodes[which].startLatency());
        floors.push(await floorOnce(mirror, scratch.dir, i));
      }
      on.commands = await nodes.on.commandTimes();
      off.commands = await nodes.off.commandTimes();
    } finally {
      await nodes.on.close();
      await nodes.off.close();
    }

    const taskOn = describe(on.latencies);
    const taskOff = describe(off.latencies);
    const floor = describe(floors);
    const cmdOn = describe(on.commands);
    const cmdOff = describe(off.commands);
    const p99 = (samples: number[]) => percentile(samples, 99);
    console.log(`bench:start — repo of ${fileCount} files, ${RUNS} runs each, warm local node, under ${scratch.dir}`);
    console.log("  (the data dir and the repo share the temp dir: set TMPDIR to measure another disk)");
    const line = (label: string, d: ReturnType<typeof describe>) =>
      console.log(`  ${label}: median ${fmt(d.median)}, p90 ${fmt(d.p90)} (min ${fmt(d.min)}, max ${fmt(d.max)})`);
    line("task creation → first agent event, sandbox on ", taskOn);
    line("task creation → first agent event, sandbox off", taskOff);
    console.log(
      `  sandbox's cost at task start: ${fmt(taskOn.median - taskOff.median)} (${(((taskOn.median - taskOff.median) / taskOff.median) * 100).toFixed(1)} % of the median; goal ≤ 5 %)`,
    );
    console.log(`  floor (clone from mirror + node prints a line): median ${fmt(floor.median)}, p90 ${fmt(floor.p90)}`);
    console.log(
      `  ratio (sandboxed median / floor median): ${(taskOn.median / floor.median).toFixed(2)} (goal < 2); median goal < 300 ms`,
    );
    console.log(
      `  shell command (\`true\`, ${COMMANDS} runs) — sandbox on: p50 ${fmt(cmdOn.median)}, p99 ${fmt(p99(on.commands))}; off: p50 ${fmt(cmdOff.median)}, p99 ${fmt(p99(off.commands))}`,
    );
    console.log(
      `  sandbox's cost per command: p50 ${fmt(cmdOn.median - cmdOff.median)}, p99 ${fmt(p99(on.commands) - p99(off.commands))} (goal: p50 ≤ 10 ms)`,
    );
  } finally {
    scratch.cleanup();
  }
}

await main();
