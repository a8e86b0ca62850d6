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

interface Measured {
  latencies: number[];
  commands: number[];
  mirror: string;
}

/** Task start latency and per-command time on a warm local node whose sandbox is `sandbox`. */
async function measure(sandbox: "on" | "off", repo: string, scratch: string): Promise<Measured> {
  const app = await startAppServer({ env: { SAM_TICK_MS: "1000", SAM_NODE_CAPACITY: "4", SAM_SANDBOX: sandbox } });
  const db = openAppDb(app);
  try {
    const api = await ownerApi(app);
    const project = await api.post<{ id: string }>("/api/projects", { repo });
    const sessionOf = async (taskId: string) =>
      (await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) }))!.id;

    const runTask = async () => {
      const t0 = performance.now();
      const created = await api.post<{ id: string }>("/api/tasks", {
        projectId: project.body.id,
        prompt: scriptPrompt("bench", [{ say: "first" }]),
      });
      const sessionId = await sessionOf(created.body.id);
      let firstEvent: number | undefined;
      while (firstEvent === undefined) {
        const row = await db.query.agentEvents.findFirst({
          where: and(eq(agentEvents.sessionId, sessionId), inArray(agentEvents.type, ["agent_text", "tool_call"])),
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

    // One task running COMMANDS trivial shell commands: the shell tool's own time for each.
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId: project.body.id,
      prompt: scriptPrompt(
        "bench commands",
        Array.from({ length: COMMANDS }, () => ({ tool: "shell", args: { command: "true" } })),
      ),
    });
    await waitForTask(api, created.body.id, isTerminal, 300_000);
    const results = await db.query.agentEvents.findMany({
      where: and(eq(agentEvents.sessionId, await sessionOf(created.body.id)), eq(agentEvents.type, "tool_result")),
    });
    const commands = results.map(
      (row) => (JSON.parse(row.payload) as { output: { durationMs: number } }).output.durationMs,
    );

    const mirrorsRoot = fs
      .readdirSync(path.join(app.dataDir, "nodes"))
      .map((n) => path.join(app.dataDir, "nodes", n, "mirrors"))
      .find((d) => fs.existsSync(d));
    // A copy of the node's mirror outlives the app, for the floor.
    const mirror = path.join(scratch, `mirror-${sandbox}.git`);
    execFileSync("git", ["clone", "-q", "--mirror", path.join(mirrorsRoot!, fs.readdirSync(mirrorsRoot!)[0]!), mirror]);
    return { latencies, commands, mirror };
  } finally {
    db.$client.close();
    await app.stop();
  }
}

async function main() {
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-start-");
  try {
    const repo = makeBigRepo(path.join(scratch.dir, "repo"));
    const fileCount = git(repo, "ls-files").split("\n").length;
    const off = await measure("off", repo, scratch.dir);
    const on = await measure("on", repo, scratch.dir);
    const floors: number[] = [];
    for (let i = 0; i < RUNS; i++) floors.push(await floorOnce(on.mirror, scratch.dir, i));

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
