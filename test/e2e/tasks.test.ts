import path from "node:path";
import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, TASK_STATUSES } from "@/db/schema";
import { transitionTask } from "@/lib/tasks/transition";
import { openAppDb, scriptPrompt } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { git, makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { makeTempDir } from "../helpers/temp-dir";

type Session = BrowserSession;

async function createProject(session: Session, baseUrl: string, repo: string): Promise<string> {
  const res = await session.context.request.post(`${baseUrl}/api/projects`, { data: { repo } });
  expect(res.status()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Creates a task as the signed-in user and opens its page. */
async function createTaskAndOpenIt(
  session: Session,
  baseUrl: string,
  projectId: string,
  task: { prompt: string; title?: string; mode?: "task" | "conversation" },
): Promise<string> {
  const res = await session.context.request.post(`${baseUrl}/api/tasks`, { data: { projectId, ...task } });
  expect(res.status()).toBe(201);
  const { id } = (await res.json()) as { id: string };
  await session.page.goto(`${baseUrl}/projects/${projectId}/tasks/${id}`);
  return id;
}

/** The status the task page shows, waiting (live, without reloading) until it is `status`. */
async function waitForStatus(page: Page, status: string, timeout = 60_000): Promise<void> {
  await page.locator(`[data-testid="task-status"] [data-status="${status}"]`).waitFor({ timeout });
}

interface SseFrame {
  event?: string;
  id?: string;
  data?: string;
}

interface SseRead {
  status: number;
  contentType: string | null;
  frames: SseFrame[];
  /** Whether the server ended the stream (rather than the reader stopping). */
  ended: boolean;
}

/**
 * Reads a task's event stream in the signed-in page (its cookies, the browser's fetch) until it has
 * `agentFrames` agent events, the server ends it, or `timeoutMs` passes.
 */
function readStream(
  page: Page,
  url: string,
  opts: { agentFrames: number; timeoutMs: number; headers?: Record<string, string> },
): Promise<SseRead> {
  return page.evaluate(
    async ({ url, agentFrames, timeoutMs, headers }) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const res = await fetch(url, { headers, signal: controller.signal });
      const frames: SseFrame[] = [];
      let ended = false;
      if (res.body) {
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        try {
          while (frames.filter((f) => f.event === "agent").length < agentFrames) {
            const { value, done } = await reader.read();
            if (done) {
              ended = true;
              break;
            }
            buffer += value;
            let end = buffer.indexOf("\n\n");
            while (end >= 0) {
              const frame: SseFrame = {};
              for (const line of buffer.slice(0, end).split("\n")) {
                const colon = line.indexOf(":");
                if (colon <= 0) continue;
                const field = line.slice(0, colon);
                const value = line.slice(colon + 1).trimStart();
                if (field === "event" || field === "id" || field === "data") frame[field] = value;
              }
              if (frame.event) frames.push(frame);
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf("\n\n");
            }
          }
        } catch {
          // Aborted by the timeout: return what arrived.
        }
        controller.abort();
      }
      clearTimeout(timer);
      return { status: res.status, contentType: res.headers.get("content-type"), frames, ended };
    },
    { url, ...opts },
  );
}

describe("tasks in the web app, run by the scheduler", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: Session;
  const repos = makeTempDir("sam-task-repos-");
  let repo: string;
  let projectId: string;
  let taskId: string;
  let landingStatus: string | null;

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    repo = makeGitRepo(path.join(repos.dir, "greeter"));
    projectId = await createProject(owner, app.baseUrl, repo);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("shows a new task on its page with its title and status", async () => {
    const { page } = owner;
    taskId = await createTaskAndOpenIt(owner, app.baseUrl, projectId, {
      title: "Write a greeting",
      prompt: scriptPrompt("Write a greeting file.", [
        { say: "hello from the script" },
        { tool: "write_file", args: { path: "a.txt", content: "x" } },
      ]),
    });
    // Marks this page load: the next test follows the run on it, without a reload.
    await page.evaluate(() => {
      (window as unknown as { stayedOnPage: boolean }).stayedOnPage = true;
    });
    await page.getByRole("heading", { name: "Write a greeting" }).waitFor();
    landingStatus = await page.getByTestId("task-status").locator("[data-status]").getAttribute("data-status");
    expect(TASK_STATUSES).toContain(landingStatus);
    // The prompt is shown as text, fence and all.
    expect(await page.getByTestId("task-description").textContent()).toContain("```sam-script");
  });

  it("shows the agent's events live and reaches completed with the branch shown", async () => {
    const { page } = owner;
    await waitForStatus(page, "completed");
    // The page showed the task before it ended, so the rest of the run came over the stream.
    expect(landingStatus).not.toBe("completed");
    expect(await page.evaluate(() => (window as unknown as { stayedOnPage?: boolean }).stayedOnPage)).toBe(true);

    const log = page.getByTestId("task-event-log");
    await log.locator('[data-type="agent_text"]').getByText("hello from the script").waitFor();
    const toolCall = log.getByTestId("tool-call").filter({ hasText: "write_file" });
    expect(await toolCall.getAttribute("data-status")).toBe("completed");
    await log.locator('[data-type="session_finished"]').getByText("completed").waitFor();

    const branch = (await page.getByTestId("task-branch").textContent())?.trim() ?? "";
    expect(branch).toMatch(/^sam\/write-a-greeting-[0-9a-f]{8}$/);
    expect(git(repo, "show", `${branch}:a.txt`)).toBe("x");
    expect(await page.getByTestId("task-failure").count()).toBe(0);
    await page.locator('[data-testid="stream-state"][data-state="ended"]').waitFor();
  });

  it("waits for follow-up in a conversation and takes a reply from the message box", async () => {
    const { page } = owner;
    await createTaskAndOpenIt(owner, app.baseUrl, projectId, {
      mode: "conversation",
      prompt: scriptPrompt("Let us talk.", [{ say: "first answer" }]),
    });
    await waitForStatus(page, "awaiting_followup");
    await page.getByText("Waiting for follow-up").waitFor();
    const log = page.getByTestId("task-event-log");
    await log.locator('[data-type="agent_text"]').getByText("first answer").waitFor();

    await page.getByLabel("Message", { exact: true }).fill(scriptPrompt("Once more.", [{ say: "second answer" }]));
    await page.getByRole("button", { name: "Send" }).click();
    await log.locator('[data-type="user_message"] [data-source="user"]').filter({ hasText: "Once more." }).waitFor();
    await log.locator('[data-type="agent_text"]').getByText("second answer").waitFor({ timeout: 60_000 });
    await waitForStatus(page, "awaiting_followup");
  });

  it("gives a second user 404 for the task page, the task API, its messages and its stream", async () => {
    const link = await mintLoginLink(app, "outsider@example.com");
    const second = await signInWithLink(browser, link, app.baseUrl);
    try {
      const page = await second.page.goto(`${app.baseUrl}/projects/${projectId}/tasks/${taskId}`);
      expect(page?.status()).toBe(404);
      expect(await second.page.content()).not.toContain("Write a greeting");
      for (const route of [`/api/tasks/${taskId}`, `/api/tasks/${taskId}/stream`]) {
        const res = await second.context.request.get(`${app.baseUrl}${route}`);
        expect(res.status()).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
      }
      const post = await second.context.request.post(`${app.baseUrl}/api/tasks/${taskId}/messages`, {
        data: { text: "let me in" },
      });
      expect(post.status()).toBe(404);
      const create = await second.context.request.post(`${app.baseUrl}/api/tasks`, {
        data: { projectId, prompt: "not mine" },
      });
      expect(create.status()).toBe(404);
    } finally {
      await second.context.close();
    }
  });
});

describe("the task event stream, fed by stored events", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: Session;
  const repos = makeTempDir("sam-stream-repos-");
  let projectId: string;

  // The scheduler is off: tasks stay queued and the test writes their agent events itself.
  beforeAll(async () => {
    [app, browser] = await Promise.all([startAppServer({ env: { SAM_SCHEDULER: "off" } }), launchBrowser()]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    projectId = await createProject(owner, app.baseUrl, makeGitRepo(path.join(repos.dir, "quiet")));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  async function newTask(prompt: string): Promise<{ id: string; sessionId: string }> {
    const created = await owner.context.request.post(`${app.baseUrl}/api/tasks`, { data: { projectId, prompt } });
    expect(created.status()).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const details = await owner.context.request.get(`${app.baseUrl}/api/tasks/${id}`);
    return { id, sessionId: ((await details.json()) as { sessionId: string }).sessionId };
  }

  /** Stores agent events the way ingest does: the payload as JSON, one row per (session, seq). */
  async function storeEvents(sessionId: string, events: { seq: number; payload: AgentEventPayload }[]) {
    const db = openAppDb(app);
    try {
      await db
        .insert(agentEvents)
        .values(
          events.map((e) => ({ sessionId, seq: e.seq, type: e.payload.type, payload: JSON.stringify(e.payload) })),
        );
    } finally {
      db.$client.close();
    }
  }

  const say = (seq: number): { seq: number; payload: AgentEventPayload } => ({
    seq,
    payload: { type: "agent_text", text: `line ${seq}` },
  });

  it("resumes after a given seq without duplicates, then sends new events as they are stored", async () => {
    const task = await newTask("Stream me");
    await storeEvents(task.sessionId, [1, 2, 3, 4, 5].map(say));
    const url = `${app.baseUrl}/api/tasks/${task.id}/stream`;

    const reading = readStream(owner.page, `${url}?after=2`, { agentFrames: 5, timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await storeEvents(task.sessionId, [6, 7].map(say));
    const read = await reading;

    expect(read.status).toBe(200);
    expect(read.contentType).toContain("text/event-stream");
    expect(read.frames[0]?.event).toBe("task");
    expect(JSON.parse(read.frames[0]?.data ?? "{}")).toMatchObject({ id: task.id, status: "queued" });
    const agent = read.frames.filter((f) => f.event === "agent");
    expect(agent.map((f) => f.id)).toEqual(["3", "4", "5", "6", "7"]);
    expect(agent.map((f) => JSON.parse(f.data ?? "{}").payload.text)).toEqual([
      "line 3",
      "line 4",
      "line 5",
      "line 6",
      "line 7",
    ]);

    // A reconnecting EventSource sends the last id it saw; the stream goes on from there.
    const resumed = await readStream(owner.page, url, {
      agentFrames: 2,
      timeoutMs: 5000,
      headers: { "Last-Event-ID": "5" },
    });
    expect(resumed.frames.filter((f) => f.event === "agent").map((f) => f.id)).toEqual(["6", "7"]);

    const bad = await owner.context.request.get(`${url}?after=soon`);
    expect(bad.status()).toBe(400);
  });

  it("updates the task page live: events, tool results, errors, and the failure with its reason", async () => {
    const task = await newTask("Watch me");
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}/tasks/${task.id}`);
    await page.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
    await waitForStatus(page, "queued");

    await storeEvents(task.sessionId, [
      { seq: 1, payload: { type: "session_started", harness: "builtin", model: "scripted" } },
      { seq: 2, payload: { type: "agent_text", text: "<b>not bold</b>" } },
      { seq: 3, payload: { type: "tool_call", toolCallId: "c1", name: "write_file", input: { path: "a.txt" } } },
    ]);
    const log = page.getByTestId("task-event-log");
    await log.getByText("scripted (offline demo model)").waitFor();
    // Agent text is text: markup in it is shown, never interpreted.
    await log.getByText("<b>not bold</b>").waitFor();
    expect(await log.locator("b").count()).toBe(0);
    const card = log.getByTestId("tool-call");
    await card.waitFor();
    expect(await card.getAttribute("data-status")).toBe("running");

    await storeEvents(task.sessionId, [
      {
        seq: 4,
        payload: { type: "tool_result", toolCallId: "c1", name: "write_file", status: "failed", output: "disk full" },
      },
      { seq: 5, payload: { type: "agent_error", message: "the model gave up" } },
    ]);
    await page.locator('[data-testid="tool-call"][data-status="failed"]').getByText("disk full").waitFor();
    await log.locator('[data-type="agent_error"]').getByText("the model gave up").waitFor();

    const db = openAppDb(app);
    try {
      const moved = await transitionTask(db, {
        taskId: task.id,
        from: ["queued"],
        to: "failed",
        actor: { kind: "system" },
        reason: "node lost",
        set: { failureReason: "node lost" },
      });
      expect(moved).toBe(true);
    } finally {
      db.$client.close();
    }
    await waitForStatus(page, "failed", 10_000);
    expect(await page.getByTestId("task-failure").textContent()).toContain("node lost");
    await page.getByTestId("task-timeline").getByText("node lost").waitFor();
    // The server ends the stream of an ended task, and the page stops listening.
    await page.locator('[data-testid="stream-state"][data-state="ended"]').waitFor({ timeout: 10_000 });
    expect(await log.locator('[data-testid="agent-event"]').count()).toBe(4);
  });

  it("ends the stream of an ended task once its events are out", async () => {
    const task = await newTask("Already over");
    await storeEvents(task.sessionId, [1, 2].map(say));
    const db = openAppDb(app);
    try {
      await transitionTask(db, { taskId: task.id, from: ["queued"], to: "cancelled", actor: { kind: "user" } });
    } finally {
      db.$client.close();
    }
    const read = await readStream(owner.page, `${app.baseUrl}/api/tasks/${task.id}/stream`, {
      agentFrames: 10,
      timeoutMs: 10_000,
    });
    expect(read.ended).toBe(true);
    // The snapshot of the task, of the messages its agent never received, then its events.
    expect(read.frames.map((f) => f.event)).toEqual(["task", "messages", "agent", "agent"]);
  });

  it("takes no new tasks in an archived project, and says why", async () => {
    const { page } = owner;
    const archived = await createProject(owner, app.baseUrl, makeGitRepo(path.join(repos.dir, "old")));
    await page.goto(`${app.baseUrl}/projects/${archived}/settings`);
    await page.getByRole("button", { name: "Archive project" }).click();
    await page.getByRole("button", { name: "Restore project" }).waitFor();

    await page.goto(`${app.baseUrl}/projects/${archived}`);
    expect(await page.getByTestId("composer-disabled-reason").textContent()).toContain("archived");
    expect(await page.getByLabel("Message", { exact: true }).isDisabled()).toBe(true);
    const res = await owner.context.request.post(`${app.baseUrl}/api/tasks`, {
      data: { projectId: archived, prompt: "too late" },
    });
    expect(res.status()).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("archived");
  });
});
