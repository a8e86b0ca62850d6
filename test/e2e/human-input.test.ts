import path from "node:path";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, notificationEvents, pullRequests } from "@/db/schema";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { createLocalUser } from "@/lib/users";
import { type ApiClient, isTerminal, openAppDb, ownerApi, type TaskView, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { git, makeGitRepo } from "../helpers/git";
import { callTool, callToolOk } from "../helpers/mcp";
import { type FixtureReply, type OpenAIFixture, startOpenAIFixture } from "../helpers/openai-fixture";
import { makeTempDir } from "../helpers/temp-dir";
import { HumanInputCardUi } from "../pages/human-input-card";
import { Transcript } from "../pages/transcript";

const MODEL = "fixture-coder";
// Each task's prompt carries a mark, so the fixture tells their conversations apart.
const ASK = "[asks-with-options]";
const RACE = "[asks-free-answer]";
const HOLD = "[held-turn]";
const NUDGED = "[nudged-while-asking]";
const QUESTION = "Which greeting should greeting.txt hold?";
const OPTIONS = ["hello", "bonjour", "hola"];
const FREE_QUESTION = "What should the release be called?";

interface NotificationJson {
  id: string;
  kind: string;
  urgency: string;
  taskId: string | null;
  title: string;
  body: string;
  readAt: string | null;
}

// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
type Body = any;
const isAgentTurn = (body: Body) => Array.isArray(body?.tools) && body.tools.length > 0;
const firstUserMessage = (body: Body): string =>
  JSON.stringify((body?.messages ?? []).find((m: { role: string }) => m.role === "user")?.content ?? "");
const toolRounds = (body: Body): number =>
  (body?.messages ?? []).filter(
    (m: { role: string; tool_calls?: unknown[] }) => m.role === "assistant" && m.tool_calls?.length,
  ).length;
/** A chat message's text, whether its content is a string or a list of parts. */
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part: { text?: string }) => part.text ?? "").join("")
      : "";
/** The answer a person gave, as the session received it (the last one, if any). */
function answerIn(body: Body): string | undefined {
  const users = (body?.messages ?? []).filter((m: { role: string }) => m.role === "user");
  for (const message of [...users].reverse()) {
    const match = /Answer to your question [^\n]*\n\n([\s\S]*)$/.exec(textOf(message.content));
    if (match) return match[1]!.trim();
  }
  return undefined;
}

describe("request_human_input: an agent asks a person, the answer resumes the same session", () => {
  let app: AppServer;
  let api: ApiClient;
  let fixture: OpenAIFixture;
  let browser: Browser;
  let owner: BrowserSession;
  let db: Db;
  let projectId: string;
  let repo: string;
  let releaseHeld: () => void;
  const held = new Promise<void>((resolve) => {
    releaseHeld = resolve;
  });
  const repos = makeTempDir("sam-human-input-");

  beforeAll(async () => {
    [fixture, app, browser] = await Promise.all([
      startOpenAIFixture({ models: [MODEL] }),
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    api = await ownerApi(app);
    db = openAppDb(app);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    const env = { SAM_DATA_DIR: app.dataDir };
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# demo\n" } });
    const added = await runSam(["project", "add", repo, "--json"], env);
    expect(added.code, added.stderr).toBe(0);
    projectId = JSON.parse(added.stdout).id;
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

    fixture.respond((body): FixtureReply => {
      if (!isAgentTurn(body)) return { text: "A session" };
      const prompt = firstUserMessage(body);
      const rounds = toolRounds(body);
      const answer = answerIn(body);
      if (prompt.includes(ASK)) {
        if (rounds === 0) {
          return { toolCalls: [{ name: "request_human_input", arguments: { question: QUESTION, options: OPTIONS } }] };
        }
        if (answer === undefined) return { text: "I asked; I will wait for the answer." };
        if (rounds === 1) {
          return { toolCalls: [{ name: "write_file", arguments: { path: "greeting.txt", content: `${answer}\n` } }] };
        }
        if (rounds === 2) {
          return { toolCalls: [{ name: "complete_task", arguments: { summary: `Wrote the greeting: ${answer}` } }] };
        }
        return { text: "Done." };
      }
      if (prompt.includes(RACE)) {
        if (rounds === 0)
          return { toolCalls: [{ name: "request_human_input", arguments: { question: FREE_QUESTION } }] };
        return { text: answer === undefined ? "Waiting for the name." : `Thanks, ${answer} it is.` };
      }
      if (prompt.includes(HOLD)) return { text: "Done.", hold: held };
      if (prompt.includes(NUDGED)) {
        if (rounds === 0)
          return { toolCalls: [{ name: "request_human_input", arguments: { question: "Tabs or spaces?" } }] };
        if (answer !== undefined) return { text: `Going with ${answer}.` };
        return {
          text: JSON.stringify(body.messages).includes("Use your judgment") ? "I still need your answer." : "Waiting.",
        };
      }
      return { text: "Nothing to do." };
    });
  });
  afterAll(async () => {
    releaseHeld?.();
    db?.$client.close();
    await browser?.close();
    await app?.stop();
    await fixture?.close();
    repos.cleanup();
  });

  const newTask = async (prompt: string) => {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode: "task" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  };
  const notificationsOf = async (taskId: string, kind: string) =>
    (await api.get<NotificationJson[]>("/api/notifications")).body.filter(
      (n) => n.taskId === taskId && n.kind === kind,
    );
  const eventsOf = async (taskId: string) =>
    db
      .select({ kind: notificationEvents.kind, dedupKey: notificationEvents.dedupKey })
      .from(notificationEvents)
      .where(eq(notificationEvents.taskId, taskId))
      .orderBy(asc(notificationEvents.seq));
  const sessionEvents = async (sessionId: string) =>
    db
      .select({ type: agentEvents.type, payload: agentEvents.payload })
      .from(agentEvents)
      .where(eq(agentEvents.sessionId, sessionId))
      .orderBy(asc(agentEvents.seq));

  it("the task waits in awaiting_input, its members are told, and the answer clicked in the chat resumes the same session", async () => {
    const taskId = await newTask(`Write a greeting file; ask me which greeting first. ${ASK}`);
    const asking = await waitForTask(api, taskId, (t) => t.status === "awaiting_input" || isTerminal(t), 90_000);
    expect(asking.status).toBe("awaiting_input");
    const sessionId = asking.sessionId!;

    // A high-urgency notification names the task and the question.
    const [told] = await notificationsOf(taskId, "needs_input");
    expect(told).toMatchObject({ urgency: "high", readAt: null });
    expect(told!.body).toContain(QUESTION);

    // The question is in the chat, its options as buttons.
    const card = new HumanInputCardUi(owner.page);
    const transcript = new Transcript(owner.page, app.baseUrl, projectId);
    await transcript.open(sessionId);
    expect(await card.options(QUESTION)).toEqual(OPTIONS);
    await card.choose(QUESTION, "bonjour");
    await transcript
      .messagesTo(/bonjour/)
      .first()
      .waitFor({ timeout: 30_000 });

    const done = await waitForTask(api, taskId, isTerminal, 90_000);
    expect(done.failureReason).toBeNull();
    expect(done.status).toBe("completed");
    expect(done.summary).toBe("Wrote the greeting: bonjour");
    expect(git(repo, "show", `${done.branch}:greeting.txt`)).toBe("bonjour");

    // The same session went on: one chat session, one daemon session (started once), and the model
    // request after the answer carries the question's tool call, its result, and the answer.
    expect(done.sessionId).toBe(sessionId);
    expect(await db.select().from(chatSessions).where(eq(chatSessions.taskId, taskId))).toHaveLength(1);
    const events = await sessionEvents(sessionId);
    expect(events.filter((e) => e.type === "session_started")).toHaveLength(1);
    expect(events.filter((e) => e.type === "session_finished")).toHaveLength(1);
    expect(events.some((e) => e.type === "user_message" && e.payload.includes("bonjour"))).toBe(true);
    const afterAnswer = fixture
      .completions()
      .filter((r) => isAgentTurn(r.body) && firstUserMessage(r.body).includes(ASK) && answerIn(r.body) !== undefined);
    expect(afterAnswer.length).toBeGreaterThan(0);
    const history = afterAnswer[0]!.body.messages as Array<{ role: string; content: unknown; tool_calls?: Body[] }>;
    const asked = history.find(
      (m) => m.role === "assistant" && m.tool_calls?.some((c) => c.function.name === "request_human_input"),
    );
    expect(JSON.parse(asked!.tool_calls![0].function.arguments)).toEqual({ question: QUESTION, options: OPTIONS });
    expect(history.some((m) => m.role === "tool" && JSON.stringify(m.content).includes("awaiting_input"))).toBe(true);
    expect(answerIn(afterAnswer[0]!.body)).toBe("bonjour");

    // The task page shows the question with its answer.
    await owner.page.goto(`${app.baseUrl}/projects/${projectId}/tasks/${taskId}`);
    await card.waitForAnswer(QUESTION, "bonjour");

    // Its end and its PR are told once each; so is the PR's merge.
    const pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, taskId) });
    const merged = await api.post(`/api/pulls/${pr!.id}/merge`, {});
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    await expect
      .poll(async () => (await eventsOf(taskId)).map((e) => e.dedupKey))
      .toEqual([
        expect.stringMatching(/^needs_input:/),
        `task_completed:${taskId}`,
        `pr_opened:${pr!.id}`,
        `pr_merged:${pr!.id}`,
      ]);
    const copies = await db.all<{ n: number }>(sql`
      SELECT count(*) AS n FROM notifications n JOIN notification_events e ON e.seq = n.event_seq
      WHERE e.task_id = ${taskId} GROUP BY n.event_seq`);
    expect(copies.map((c) => c.n)).toEqual([1, 1, 1, 1]);
  });

  it("of two answers at the same moment one wins and the other is refused; one open question at a time; only members answer", async () => {
    const taskId = await newTask(`Prepare the release notes; ask me for the name. ${RACE}`);
    await waitForTask(api, taskId, (t) => t.status === "awaiting_input" || isTerminal(t), 90_000);
    const [question] = (await api.get<{ id: string; question: string }[]>(`/api/tasks/${taskId}/questions`)).body;
    expect(question?.question).toBe(FREE_QUESTION);

    // The agent cannot ask a second question while one is open, nor with repeated options.
    const token = await mintTaskToken(db, taskId);
    const second = await callTool(app.baseUrl, token, "request_human_input", { question: "And the date?" });
    expect(second.error?.data?.code).toBe("conflict");
    expect(second.error?.message).toContain("already asked a question");
    const repeated = await callTool(app.baseUrl, token, "request_human_input", { question: "Q?", options: ["a", "a"] });
    expect(repeated.error?.message).toContain("options must be distinct");

    // Someone who is not a member of the project cannot answer (the task does not exist for them).
    const outsider = await createLocalUser(db, { email: "outsider@example.com" });
    const { token: outsiderToken } = await mintPersonalToken(db, outsider.id, { name: "outsider" });
    const foreign = await fetch(`${app.baseUrl}/api/tasks/${taskId}/answer`, {
      method: "POST",
      headers: { authorization: `Bearer ${outsiderToken}`, "content-type": "application/json" },
      body: JSON.stringify({ requestId: question!.id, answer: "Hijacked" }),
    });
    expect(foreign.status).toBe(404);

    const [a, b] = await Promise.all([
      api.post<{ error?: { message: string } }>(`/api/tasks/${taskId}/answer`, {
        requestId: question!.id,
        answer: "Aurora",
      }),
      api.post<{ error?: { message: string } }>(`/api/tasks/${taskId}/answer`, {
        requestId: question!.id,
        answer: "Borealis",
      }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error?.message).toBe("This question has already been answered");
    const winner = a.status === 200 ? "Aurora" : "Borealis";

    const done = await waitForTask(api, taskId, isTerminal, 90_000);
    expect(done.status).toBe("completed");
    // The session got the winning answer only, once.
    const answers = (await sessionEvents(done.sessionId!)).filter((e) => e.type === "user_message");
    expect(answers.filter((e) => e.payload.includes("Answer to your question"))).toHaveLength(1);
    expect(answers.some((e) => e.payload.includes(winner))).toBe(true);
    expect(answers.some((e) => e.payload.includes(winner === "Aurora" ? "Borealis" : "Aurora"))).toBe(false);
    // A late answer to an answered question is refused clearly too.
    const late = await api.post<{ error: { message: string } }>(`/api/tasks/${taskId}/answer`, {
      requestId: question!.id,
      answer: "Late",
    });
    expect(late.status).toBe(409);
  });

  it("20 progress reports from a task make one notification holding the last; another task's is its own; a failure is told once", async () => {
    const [first, second] = [await newTask(`Port the engine. ${HOLD}`), await newTask(`Tune the engine. ${HOLD}`)];
    const running = (t: TaskView) => t.status === "running" || isTerminal(t);
    await Promise.all([waitForTask(api, first, running, 90_000), waitForTask(api, second, running, 90_000)]);
    const [firstToken, secondToken] = [await mintTaskToken(db, first), await mintTaskToken(db, second)];
    const started = Date.now();
    for (let i = 1; i <= 20; i++) {
      await callToolOk(app.baseUrl, firstToken, "update_task_status", { message: `step ${i} of 20` });
    }
    expect(Date.now() - started).toBeLessThan(60_000);
    await callToolOk(app.baseUrl, secondToken, "update_task_status", { message: "measuring", percent: 10 });

    const firstProgress = await notificationsOf(first, "progress");
    expect(firstProgress).toHaveLength(1);
    expect(firstProgress[0]).toMatchObject({ body: "step 20 of 20", urgency: "low", readAt: null });
    expect(firstProgress[0]!.title).toContain("progress");
    expect((await notificationsOf(second, "progress")).map((n) => n.body)).toEqual(["10% — measuring"]);
    expect(
      await db
        .select()
        .from(notificationEvents)
        .where(and(eq(notificationEvents.taskId, first), eq(notificationEvents.kind, "progress"))),
    ).toHaveLength(1);

    // One stopped task fails; the other completes once its turn goes on.
    const stopped = await api.post(`/api/tasks/${second}/stop`, { graceSeconds: 0 });
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    releaseHeld();
    const [firstDone, secondDone] = await Promise.all([
      waitForTask(api, first, isTerminal, 90_000),
      waitForTask(api, second, isTerminal, 90_000),
    ]);
    expect([firstDone.status, secondDone.status]).toEqual(["completed", "failed"]);
    await expect.poll(async () => (await eventsOf(second)).map((e) => e.kind)).toEqual(["progress", "task_failed"]);
    await expect.poll(async () => (await eventsOf(first)).map((e) => e.kind)).toEqual(["progress", "task_completed"]);
    expect((await notificationsOf(second, "task_failed"))[0]!.body).toContain("stopped");
  });

  it("a plain message while a question is open reaches the agent, and the task still waits for the answer", async () => {
    const taskId = await newTask(`Format the code. ${NUDGED}`);
    const asking = await waitForTask(api, taskId, (t) => t.status === "awaiting_input" || isTerminal(t), 90_000);
    const turnsEnded = async () =>
      (await sessionEvents(asking.sessionId!)).filter((e) => e.type === "turn_ended").length;
    // The turn that asked has ended (the question came during it).
    await expect.poll(turnsEnded, { timeout: 30_000 }).toBeGreaterThan(0);
    const before = await turnsEnded();
    const nudge = await api.post(`/api/tasks/${taskId}/messages`, { text: "Use your judgment" });
    expect(nudge.status, JSON.stringify(nudge.body)).toBe(200);
    // The agent had a turn with the message, and the task waits for the answer still.
    await expect.poll(turnsEnded, { timeout: 60_000 }).toBe(before + 1);
    expect((await waitForTask(api, taskId, () => true)).status).toBe("awaiting_input");
    const [question] = (await api.get<{ id: string; answeredAt: string | null }[]>(`/api/tasks/${taskId}/questions`))
      .body;
    expect(question?.answeredAt).toBeNull();

    const answered = await api.post(`/api/tasks/${taskId}/answer`, { requestId: question!.id, answer: "spaces" });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect((await waitForTask(api, taskId, isTerminal, 90_000)).status).toBe("completed");
    expect(
      fixture.completions().some((r) => firstUserMessage(r.body).includes(NUDGED) && answerIn(r.body) === "spaces"),
    ).toBe(true);
  });
});
