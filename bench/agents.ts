/**
 * `npm run bench:agents`: how long real agents take through SAM, and what SAM adds per model turn,
 * with the scripted OpenAI-compatible fixture answering instantly in place of an LLM.
 *
 * 1. On the real app and its local daemon (sandbox on, network open): a task whose model runs a
 *    shell command, writes a file and completes, for the built-in harness and for Qwen Code — time
 *    from the task's creation to the first model request, and to its completion.
 * 2. SAM's own time per model turn, measured in isolation:
 *    - the key endpoint: the same streamed chat completion sent straight to the fixture and through
 *      a session's key endpoint, one after the other; the difference of the medians;
 *    - the ACP round trip: a turn of the built-in agent in the daemon's process with the offline
 *      `scripted` model saying one line (prompt → update → end of turn, through the daemon's ACP
 *      client); this includes the agent loop itself, so it bounds SAM's part from above.
 *
 * Figures only, no assertions. BENCH_AGENT_RUNS (default 3) and BENCH_PROXY_REQUESTS (default 300)
 * change the sizes.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "../scripts/build-state";
import { ownerApi, type TaskView } from "../test/helpers/api";
import { startAppServer } from "../test/helpers/app-server";
import { runSam } from "../test/helpers/cli";
import { makeGitRepo } from "../test/helpers/git";
import { type FixtureReply, replyByRound, startOpenAIFixture } from "../test/helpers/openai-fixture";
import { makeTempDir } from "../test/helpers/temp-dir";
import { describe, fmt } from "./stats";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.BENCH_AGENT_RUNS ?? 3);
const MODEL = "bench-model";

// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
type Body = any;
const toolNames = (body: Body): string[] =>
  (body?.tools ?? []).map((t: { function: { name: string } }) => t.function.name);
const offered = (body: Body, name: string) =>
  toolNames(body).find((t) => t === name || t.endsWith(`__${name}`)) ?? name;

/** The same three turns for either agent, in its own tool names. */
function plan(body: Body): FixtureReply {
  const qwen = toolNames(body).includes("run_shell_command");
  return replyByRound([
    { toolCalls: [{ name: qwen ? "run_shell_command" : "shell", arguments: { command: "true" } }] },
    {
      toolCalls: [
        {
          name: "write_file",
          arguments: qwen
            ? { file_path: "/workspace/bench.txt", content: "bench\n" }
            : { path: "bench.txt", content: "bench\n" },
        },
      ],
    },
    { toolCalls: [{ name: offered(body, "complete_task"), arguments: { summary: "bench" } }] },
    { text: "Done." },
  ])(body);
}

async function main(): Promise<void> {
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-agents-");
  const fixture = await startOpenAIFixture({ models: [MODEL] });
  fixture.respond((body) => (toolNames(body).length === 0 ? { text: "Bench" } : plan(body)));
  const app = await startAppServer({ env: { SAM_TICK_MS: "100", SAM_HEARTBEAT_MS: "500" } });
  try {
    const api = await ownerApi(app);
    const env = { SAM_DATA_DIR: app.dataDir };
    const repo = makeGitRepo(path.join(scratch.dir, "repo"), { files: { "README.md": "# bench\n" } });
    const added = await runSam(["project", "add", repo, "--json"], env);
    const projectId = JSON.parse(added.stdout).id as string;
    await runSam(["secret", "set", projectId, "OPENAI_COMPATIBLE_API_KEY"], env, undefined, `${fixture.apiKey}\n`);

    const runTask = async (harness: string) => {
      await runSam(
        [
          "project",
          "configure",
          projectId,
          "--harness",
          harness,
          "--model",
          `openai-compatible:${MODEL}`,
          "--base-url",
          fixture.url,
          "--json",
        ],
        env,
      );
      const before = fixture.completions().length;
      const created = Date.now();
      const res = await api.post<{ id: string }>("/api/tasks", { projectId, prompt: `bench ${harness}` });
      let task: TaskView | undefined;
      for (;;) {
        const answer = await api.get<TaskView>(`/api/tasks/${res.body.id}`);
        task = answer.body;
        if (["completed", "failed", "cancelled"].includes(task.status)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const done = Date.now();
      const agentTurns = fixture
        .completions()
        .slice(before)
        .filter((r) => toolNames(r.body).length > 0);
      if (task.status !== "completed" || !agentTurns[0]) {
        throw new Error(`the ${harness} task ended ${task.status}: ${task.failureReason}`);
      }
      return { toFirst: agentTurns[0].at - created, toDone: done - created, turns: agentTurns.length };
    };

    console.log("Task creation → first model request → completion (3 model turns plus the final answer)\n");
    for (const harness of ["builtin", "qwen-code"]) {
      // Not counted: the first task starts the local node; Qwen Code's first also installs it.
      const t0 = Date.now();
      await runTask(harness);
      console.log(
        `  (${harness} first task, starting the node or installing the agent: ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await runTask(harness));
      const first = describe(runs.map((r) => r.toFirst));
      const total = describe(runs.map((r) => r.toDone));
      console.log(
        `  ${harness.padEnd(10)} first model request: median ${fmt(first.median)} (min ${fmt(first.min)}, max ${fmt(first.max)});` +
          ` completed: median ${fmt(total.median)} (min ${fmt(total.min)}, max ${fmt(total.max)}); ${runs[0]?.turns} model requests; n=${RUNS}`,
      );
    }
  } finally {
    await app.stop();
  }

  await fixture.close();
  scratch.cleanup();

  // SAM's own time per turn, measured by the daemon's code against a fresh fixture (see its header).
  const overhead = spawnSync(
    process.execPath,
    [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(ROOT, "agent-daemon/bench/turn-overhead.ts")],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (overhead.status !== 0) throw new Error("the turn overhead measurement failed");
  process.stdout.write(overhead.stdout);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
