import net from "node:net";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions } from "@/db/schema";
import { type ApiClient, isTerminal, openAppDb, ownerApi, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { runSam } from "../helpers/cli";
import { git, makeGitRepo } from "../helpers/git";
import { type FixtureReply, type OpenAIFixture, replyByRound, startOpenAIFixture } from "../helpers/openai-fixture";
import { makeTempDir } from "../helpers/temp-dir";

const MODEL = "fixture-coder";
// Marks the child's prompt, so the fixture tells the child's requests from the parent's.
const CHILD_MARK = "[child-of-fixture-test]";
const PARENT_USAGE = { promptTokens: 1000, completionTokens: 50, cachedTokens: 200 };
const CHILD_USAGE = { promptTokens: 7, completionTokens: 3 };
const TITLE = "Greeting file and a helper";

/** A base URL where nothing listens: a port bound and released again. */
async function deadBaseUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

/** The first user message of a chat completion request, as text. */
// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
function firstUserMessage(body: any): string {
  const messages: Array<{ role: string; content: unknown }> = body?.messages ?? [];
  return JSON.stringify(messages.find((m) => m.role === "user")?.content ?? "");
}

// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
const isChild = (body: any) => firstUserMessage(body).includes(CHILD_MARK);
// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
const isAgentTurn = (body: any) => Array.isArray(body?.tools) && body.tools.length > 0;

const withUsage = (steps: FixtureReply[]) => steps.map((step): FixtureReply => ({ ...step, usage: PARENT_USAGE }));

// The task's own turn: a command, a file, a helper; then it ends its turn and waits for the helper.
const firstTurn = replyByRound(
  withUsage([
    {
      text: "First a command.",
      toolCalls: [{ name: "shell", arguments: { command: "echo shell-ok-$((40 + 2))" } }],
    },
    {
      toolCalls: [{ name: "write_file", arguments: { path: "notes/hello.txt", content: "hello from the fixture\n" } }],
    },
    {
      toolCalls: [
        { name: "dispatch_task", arguments: { title: "Child helper", description: `Say hello. ${CHILD_MARK}` } },
      ],
    },
    { text: "The helper is on it; I finish when it reports." },
  ]),
);
// The turn the helper's end wakes it with: it completes.
const wakeTurn = withUsage([
  { toolCalls: [{ name: "complete_task", arguments: { summary: "Wrote notes/hello.txt and dispatched a helper" } }] },
  { text: "Done." },
]);

// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
function parentPlan(body: any): FixtureReply {
  const messages: Array<{ role: string; content: unknown }> = body?.messages ?? [];
  const lastUser = messages.findLastIndex((m) => m.role === "user");
  // SAM's wake names the subtask that ended.
  if (!JSON.stringify(messages[lastUser]?.content ?? "").includes("Child helper")) return firstTurn(body);
  const round = messages.slice(lastUser + 1).filter((m) => m.role === "assistant").length;
  return wakeTurn[Math.min(round, wakeTurn.length - 1)]!;
}

describe("the built-in harness with an OpenAI-compatible model, through the real AI SDK provider", () => {
  let app: AppServer;
  let api: ApiClient;
  let fixture: OpenAIFixture;
  let projectId: string;
  let repo: string;
  let env: Record<string, string>;
  const repos = makeTempDir("sam-builtin-openai-");

  beforeAll(async () => {
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
    // Configured as a user would from the command line: the key from standard input, then the model.
    const secret = await runSam(
      ["secret", "set", projectId, "OPENAI_COMPATIBLE_API_KEY"],
      env,
      undefined,
      `${fixture.apiKey}\n`,
    );
    expect(secret.code, secret.stderr).toBe(0);
    const configured = await runSam(
      ["project", "configure", projectId, "--model", `openai-compatible:${MODEL}`, "--base-url", fixture.url, "--json"],
      env,
    );
    expect(configured.code, configured.stderr).toBe(0);
    fixture.respond((body) => {
      // The web app's title request: no tools.
      if (!isAgentTurn(body)) return { text: TITLE };
      if (isChild(body)) return { text: "Hello from the child.", usage: CHILD_USAGE };
      return parentPlan(body);
    });
  });
  afterAll(async () => {
    await app?.stop();
    await fixture?.close();
    repos.cleanup();
  });

  it("a task runs a shell command, writes a file and dispatches a subtask, waits for it, and completes with the file on its branch", async () => {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: "please add a greeting file and get a helper to say hello",
    });
    expect(created.status).toBe(201);
    const taskId = created.body.id;
    const task = await waitForTask(api, taskId, isTerminal, 90_000);
    expect(task.failureReason).toBeNull();
    expect(task.status).toBe("completed");
    expect(task.summary).toBe("Wrote notes/hello.txt and dispatched a helper");
    expect(git(repo, "show", `${task.branch}:notes/hello.txt`)).toBe("hello from the fixture");

    // The shell really ran, in the workspace.
    const db = openAppDb(app);
    let events: { type: string; payload: Record<string, unknown> }[];
    try {
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
      const rows = await db.query.agentEvents.findMany({
        where: eq(agentEvents.sessionId, session!.id),
        orderBy: asc(agentEvents.seq),
      });
      events = rows.map((r) => ({ type: r.type, payload: JSON.parse(r.payload) }));
      // The model named the session.
      await expect
        .poll(async () => (await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) }))?.title)
        .toBe(TITLE);
    } finally {
      db.$client.close();
    }
    const shell = events.find((e) => e.type === "tool_result" && e.payload.name === "shell");
    expect(JSON.stringify(shell?.payload.output)).toContain("shell-ok-42");
    expect(events[0]?.payload).toMatchObject({ type: "session_started", model: `openai-compatible:${MODEL}` });

    // The child exists, made by the agent's dispatch_task, and finishes too.
    const show = await runSam(["task", "show", taskId, "--json"], env);
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout);
    expect(shown.children).toHaveLength(1);
    expect(shown.children[0]).toMatchObject({ title: "Child helper" });
    const child = await waitForTask(api, shown.children[0].id, isTerminal, 90_000);
    expect(child.status).toBe("completed");

    // Every model request went through the provider with the project's key and model.
    const turns = fixture.completions().filter((r) => isAgentTurn(r.body));
    expect(turns.length).toBeGreaterThanOrEqual(6);
    for (const turn of turns) {
      expect(turn.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);
      expect(turn.body.model).toBe(MODEL);
    }
    // Four requests in its own turn, two in the turn the helper's end woke it with.
    const parentTurns = turns.filter((r) => !isChild(r.body)).length;
    expect(parentTurns).toBe(6);

    // The key is in no event and no log line.
    expect(JSON.stringify(events)).not.toContain(fixture.apiKey);
    expect(app.output()).not.toContain(fixture.apiKey);

    // Usage is stored per turn from the provider's figures: the parent's own, and its subtree's with the child's.
    const after = JSON.parse((await runSam(["task", "show", taskId, "--json"], env)).stdout);
    const childTurns = turns.length - parentTurns;
    expect(after.usage).toMatchObject({
      inputTokens: PARENT_USAGE.promptTokens * parentTurns,
      outputTokens: PARENT_USAGE.completionTokens * parentTurns,
    });
    expect(after.usage.subtree).toMatchObject({
      inputTokens: PARENT_USAGE.promptTokens * parentTurns + CHILD_USAGE.promptTokens * childTurns,
      outputTokens: PARENT_USAGE.completionTokens * parentTurns + CHILD_USAGE.completionTokens * childTurns,
    });
  });

  it("a refused key and an unreachable base URL each fail the task saying so", async () => {
    const wrong = await runSam(
      ["secret", "set", projectId, "OPENAI_COMPATIBLE_API_KEY"],
      env,
      undefined,
      "sk-wrong-key-0000",
    );
    expect(wrong.code, wrong.stderr).toBe(0);
    const refused = await api.post<{ id: string }>("/api/tasks", { projectId, prompt: "anything", title: "Refused" });
    const refusedTask = await waitForTask(api, refused.body.id, isTerminal, 90_000);
    expect(refusedTask.status).toBe("failed");
    expect(refusedTask.failureReason).toMatch(/refused the API key \(HTTP 401\)/);

    const dead = await deadBaseUrl();
    const moved = await runSam(["project", "configure", projectId, "--base-url", dead], env);
    expect(moved.code, moved.stderr).toBe(0);
    const unreachable = await api.post<{ id: string }>("/api/tasks", { projectId, prompt: "anything", title: "Away" });
    const unreachableTask = await waitForTask(api, unreachable.body.id, isTerminal, 90_000);
    expect(unreachableTask.status).toBe("failed");
    // Through the node's key endpoint, which names the server it could not reach.
    expect(unreachableTask.failureReason).toContain(dead);
    expect(unreachableTask.failureReason).toMatch(/cannot (be )?reach/);
    expect(JSON.stringify([refusedTask, unreachableTask])).not.toContain("sk-wrong-key-0000");
  });
});
