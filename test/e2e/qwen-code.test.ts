/**
 * Qwen Code, the real agent from npm, run by the real app's local daemon in the real sandbox with
 * network `none`, its model the scripted OpenAI-compatible fixture reached only through the session's
 * key endpoint. Everything between the fixture and the repository is real.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions } from "@/db/schema";
import { type ApiClient, isTerminal, openAppDb, ownerApi, type TaskView, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { runSam } from "../helpers/cli";
import { git, makeGitRepo } from "../helpers/git";
import { type FixtureReply, type OpenAIFixture, replyByRound, startOpenAIFixture } from "../helpers/openai-fixture";
import { makeTempDir } from "../helpers/temp-dir";

const MODEL = "fixture-coder";
const CHILD_MARK = "[child-of-qwen-test]";
const HOLD_MARK = "[held-turn]";
// The first task installs Qwen Code and Node.js 22 into the node's cache (npm's cache makes it quick).
const FIRST_TASK_MS = 240_000;

interface StoredEvent {
  type: string;
  payload: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
type Body = any;

/** Every user message of a chat completion request, as text. */
const userText = (body: Body) =>
  JSON.stringify((body?.messages ?? []).filter((m: { role: string }) => m.role === "user"));
const toolNames = (body: Body): string[] =>
  (body?.tools ?? []).map((t: { function: { name: string } }) => t.function.name);
/** The tool the agent offers whose name is `name` or ends in `__name` (MCP tools carry their server's prefix). */
const offered = (body: Body, name: string) =>
  toolNames(body).find((t) => t === name || t.endsWith(`__${name}`)) ?? name;

async function events(app: AppServer, taskId: string): Promise<StoredEvent[]> {
  const db = openAppDb(app);
  try {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    const rows = await db.query.agentEvents.findMany({
      where: eq(agentEvents.sessionId, session!.id),
      orderBy: asc(agentEvents.seq),
    });
    return rows.map((r) => ({ type: r.type, payload: JSON.parse(r.payload) }));
  } finally {
    db.$client.close();
  }
}

/** Pids of the processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Every file under `dir` (skipping the installed agents: Node.js alone is 120 MB) whose bytes hold `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "agents") walk(p);
      } else if (entry.isFile() && fs.readFileSync(p).includes(needle)) found.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}

describe("Qwen Code as a SAM agent, sandboxed without network, through the key endpoint", () => {
  let app: AppServer;
  let api: ApiClient;
  let fixture: OpenAIFixture;
  let canary: http.Server;
  let canaryHits = 0;
  let canaryPort: number;
  let projectId: string;
  let repo: string;
  let env: Record<string, string>;
  let releaseHeld: () => void = () => {};
  const repos = makeTempDir("sam-qwen-");

  const configure = async (...args: string[]) => {
    const result = await runSam(["project", "configure", projectId, ...args, "--json"], env);
    expect(result.code, result.stderr).toBe(0);
  };
  const setKey = async (value: string) => {
    const result = await runSam(
      ["secret", "set", projectId, "OPENAI_COMPATIBLE_API_KEY"],
      env,
      undefined,
      `${value}\n`,
    );
    expect(result.code, result.stderr).toBe(0);
  };
  const createTask = async (prompt: string) => {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt });
    expect(created.status).toBe(201);
    return created.body.id;
  };

  beforeAll(async () => {
    canary = http.createServer((_req, res) => {
      canaryHits++;
      res.end("canary");
    });
    await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
    canaryPort = (canary.address() as AddressInfo).port;
    [fixture, app] = await Promise.all([
      startOpenAIFixture({ models: [MODEL] }),
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } }),
    ]);
    api = await ownerApi(app);
    env = { SAM_DATA_DIR: app.dataDir };
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# demo\n" } });
    const added = await runSam(["project", "add", repo, "--json"], env);
    expect(added.code, added.stderr).toBe(0);
    projectId = JSON.parse(added.stdout).id;
    await setKey(fixture.apiKey);
    await configure(
      "--harness",
      "qwen-code",
      "--model",
      `openai-compatible:${MODEL}`,
      "--base-url",
      fixture.url,
      "--network",
      "none",
    );

    const held = new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    // From inside the sandbox: the fixture's own port and another loopback server must be unreachable.
    const probe = (port: number, label: string) =>
      `node -e "fetch('http://127.0.0.1:${port}/').then(()=>console.log('${label}-reached'),()=>console.log('${label}-unreachable'))"`;
    const parentPlan = (body: Body) =>
      replyByRound([
        {
          text: "First a command.",
          toolCalls: [
            {
              name: offered(body, "run_shell_command"),
              arguments: {
                command: `echo shell-ok-$((40 + 2)); ${probe(canaryPort, "canary")}; ${probe(Number(new URL(fixture.url).port), "fixture")}`,
                description: "check the sandbox",
              },
            },
          ],
        },
        {
          toolCalls: [
            {
              name: offered(body, "write_file"),
              arguments: { file_path: "/workspace/notes/hello.txt", content: "hello from qwen\n" },
            },
          ],
        },
        {
          toolCalls: [
            {
              name: offered(body, "dispatch_task"),
              arguments: { title: "Child helper", description: `Say hello. ${CHILD_MARK}` },
            },
          ],
        },
        {
          toolCalls: [
            { name: offered(body, "complete_task"), arguments: { summary: "Wrote notes/hello.txt with Qwen Code" } },
          ],
        },
        { text: "Done." },
      ])(body);
    fixture.respond((body): FixtureReply => {
      // Qwen's side requests (a next-speaker check, a summary) carry no tools.
      if (toolNames(body).length === 0) return { text: '{"next_speaker":"user","reasoning":"done"}' };
      if (userText(body).includes(HOLD_MARK)) return { text: "never sent", hold: held };
      if (userText(body).includes(CHILD_MARK)) return { text: "Hello from the child." };
      return parentPlan(body);
    });
  }, 300_000);

  afterAll(async () => {
    releaseHeld();
    await app?.stop();
    await fixture?.close();
    await new Promise((resolve) => canary?.close(resolve));
    repos.cleanup();
  });

  it(
    "a task runs a shell command, writes a file and dispatches a subtask through SAM's MCP tools, and completes with the file on its branch",
    async () => {
      const taskId = await createTask("please add a greeting file and get a helper to say hello");
      const task = await waitForTask(api, taskId, isTerminal, FIRST_TASK_MS);
      const stored = await events(app, taskId);
      expect(task.failureReason, JSON.stringify(stored.slice(-5))).toBeNull();
      expect(task.status).toBe("completed");
      expect(git(repo, "show", `${task.branch}:notes/hello.txt`)).toBe("hello from qwen");

      // Qwen's tool calls, with their real names and inputs.
      const calls = stored.filter((e) => e.type === "tool_call").map((e) => e.payload);
      const shellCall = calls.find((c) => c.name === "run_shell_command");
      expect(JSON.stringify(shellCall?.input)).toContain("shell-ok-");
      expect(calls.find((c) => c.name === "write_file")?.input).toMatchObject({
        file_path: "/workspace/notes/hello.txt",
      });
      expect(calls.find((c) => c.name === "dispatch_task")?.input).toMatchObject({ title: "Child helper" });
      const shellResult = stored.find((e) => e.type === "tool_result" && e.payload.name === "run_shell_command");
      const output = JSON.stringify(shellResult?.payload.output);
      expect(output).toContain("shell-ok-42");
      // Network `none`: nothing but the forwarded endpoints is reachable, not even the model server itself.
      expect(output).toContain("canary-unreachable");
      expect(output).toContain("fixture-unreachable");
      expect(canaryHits).toBe(0);

      // The child exists, made by Qwen's dispatch_task call, and finishes too.
      const show = await runSam(["task", "show", taskId, "--json"], env);
      const shown = JSON.parse(show.stdout);
      expect(shown.children).toHaveLength(1);
      expect(shown.children[0]).toMatchObject({ title: "Child helper" });
      const child = await waitForTask(api, shown.children[0].id, isTerminal, 120_000);
      expect(child.status).toBe("completed");

      // Every model request reached the fixture through the key endpoint with the real key.
      const turns = fixture.completions();
      expect(turns.length).toBeGreaterThanOrEqual(5);
      for (const turn of turns) {
        expect(turn.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);
        expect(turn.body.model).toBe(MODEL);
      }
      expect(JSON.stringify(stored)).not.toContain(fixture.apiKey);
    },
    FIRST_TASK_MS + 150_000,
  );

  it("stopping Qwen mid-turn ends its task, and the key is in neither its environment, its HOME, the events nor the logs", async () => {
    const taskId = await createTask(`wait for the model ${HOLD_MARK}`);
    // Qwen's turn, held (the web app's own request for the task's title carries the prompt too, without tools).
    const heldTurn = () =>
      fixture.completions().some((r) => toolNames(r.body).length > 0 && userText(r.body).includes(HOLD_MARK));
    await expect.poll(heldTurn, { timeout: 120_000 }).toBe(true);
    const running = await waitForTask(api, taskId, (t) => t.status === "running");

    // While its turn is held: the agent's environment and HOME.
    const pids = processesMentioning("qwen-code-0.24.4");
    expect(pids.length).toBeGreaterThan(0);
    const environs = pids.map((pid) => fs.readFileSync(`/proc/${pid}/environ`, "utf8")).join("\n");
    expect(environs).toContain("OPENAI_API_KEY=sam-dummy-");
    expect(environs).not.toContain(fixture.apiKey);
    const homes = path.join(app.dataDir, "nodes");
    // Qwen's settings are in its HOME, pointing it at the key endpoint; its key is in its environment only.
    const settings = filesHolding(homes, '"selectedType": "openai"');
    expect(settings.some((f) => f.endsWith(path.join("home", ".qwen", "settings.json")))).toBe(true);
    expect(filesHolding(homes, fixture.apiKey)).toEqual([]);

    expect((await api.post(`/api/tasks/${taskId}/stop`, { reason: "stopped by the test" })).status).toBe(200);
    const stopped: TaskView = await waitForTask(api, taskId, isTerminal, 60_000);
    expect(stopped.status).toBe("failed");
    expect(stopped.failureReason).toContain("stopped by the test");
    expect(running.sessionId).toBeTruthy();
    // The daemon ends the agent's processes after the task is marked failed: wait for that, not for a moment.
    await expect
      .poll(() => processesMentioning("qwen-code-0.24.4").filter((p) => pids.includes(p)), { timeout: 30_000 })
      .toEqual([]);

    expect(JSON.stringify(await events(app, taskId))).not.toContain(fixture.apiKey);
    expect(app.output()).not.toContain(fixture.apiKey);
    expect(filesHolding(homes, fixture.apiKey)).toEqual([]);
  }, 180_000);

  it("a wrong key (the server's 401) and an unreachable server each fail the task with a message saying so", async () => {
    await setKey("sk-wrong-key");
    const refused = await waitForTask(api, await createTask("try with a wrong key"), isTerminal, 120_000);
    expect(refused.status).toBe("failed");
    expect(refused.failureReason).toMatch(/401|Incorrect API key/);

    await setKey(fixture.apiKey);
    const gone = http.createServer();
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
    const goneUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/v1`;
    await new Promise((resolve) => gone.close(resolve));
    await configure("--base-url", goneUrl);
    const unreachable = await waitForTask(api, await createTask("try an unreachable server"), isTerminal, 180_000);
    expect(unreachable.status).toBe("failed");
    expect(unreachable.failureReason).toContain(`the model server at ${goneUrl} cannot be reached`);
  }, 330_000);
});
