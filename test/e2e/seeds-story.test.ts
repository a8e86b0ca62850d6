import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { and, asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, inboxMessages, messages, taskEvents, tasks } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { type ApiClient, isTerminal, openAppDb, ownerApi, type TaskView, waitForTask } from "../helpers/api";
import { type AppServer, killLocalDaemons, startAppServer } from "../helpers/app-server";
import { freePort } from "../helpers/free-port";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

const CRON_SECRET = "cron-secret-for-the-seeds-story-0123456789";

/**
 * A prompt whose sam-script the scripted model plays. Backticks inside the steps are written as
 * JSON escapes, so a script can carry another prompt with its own script (a child's description, a
 * message to a child) without ending its own fenced block early.
 */
function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

interface StoredEvent {
  seq: number;
  at: number;
  type: string;
  payload: Record<string, unknown>;
}

async function withDb<T>(app: AppServer, use: (db: ReturnType<typeof openAppDb>) => Promise<T>): Promise<T> {
  const db = openAppDb(app);
  try {
    return await use(db);
  } finally {
    db.$client.close();
  }
}

/** The stored agent events of a task's session, in order. */
function storedEvents(app: AppServer, taskId: string): Promise<StoredEvent[]> {
  return withDb(app, async (db) => {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    if (!session) return [];
    const rows = await db.query.agentEvents.findMany({
      where: eq(agentEvents.sessionId, session.id),
      orderBy: asc(agentEvents.seq),
    });
    return rows.map((r) => ({
      seq: r.seq,
      at: r.createdAt.getTime(),
      type: r.type,
      payload: JSON.parse(r.payload) as Record<string, unknown>,
    }));
  });
}

/** The stored chat messages of a task's session, in order. */
function chatMessages(app: AppServer, taskId: string) {
  return withDb(app, async (db) => {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    return db.query.messages.findMany({ where: eq(messages.sessionId, session!.id), orderBy: asc(messages.seq) });
  });
}

const userMessages = (events: StoredEvent[], source: string) =>
  events.filter((e) => e.type === "user_message" && e.payload.source === source);

const agentText = (events: StoredEvent[]) =>
  events
    .filter((e) => e.type === "agent_text")
    .map((e) => e.payload.text)
    .join("");

/** The JSON results of a session's calls of one MCP tool, in order (failed calls as their error). */
function toolResults(events: StoredEvent[], name: string): unknown[] {
  return events
    .filter((e) => e.type === "tool_result" && e.payload.name === name)
    .map((e) => {
      const output = e.payload.output as { content?: { text?: string }[] } | undefined;
      const text = output?.content?.[0]?.text;
      return e.payload.status === "completed" && text ? JSON.parse(text) : { failed: e.payload.output };
    });
}

/** Polls `read` until `done` holds for its value, or fails with the last value seen. */
async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`Timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}

function childrenOf(app: AppServer, parentId: string) {
  return withDb(app, (db) =>
    db.query.tasks.findMany({ where: eq(tasks.parentId, parentId), orderBy: asc(tasks.createdAt) }),
  );
}

describe("the seeds' story: a parent dispatches, messages and stops a child, on real daemons", () => {
  const repos = makeTempDir("sam-story-repos-");
  const data = makeTempDir("sam-story-data-");
  const env = { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" };
  let port: number;
  let app: AppServer;
  let api: ApiClient;
  let repo: string;
  let projectId: string;
  let parentId: string;
  let firstChildId: string;

  beforeAll(async () => {
    port = await freePort();
    app = await startAppServer({ env, port, dataDir: data.dir });
    api = await ownerApi(app);
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# story\n" } });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
  });
  afterAll(async () => {
    await app?.stop({ keepData: true });
    killLocalDaemons(data.dir);
    data.cleanup();
    repos.cleanup();
  });

  /** Posts a follow-up to the parent's conversation and waits until the parent has played it. */
  /**
   * Sends the parent a message and waits for the turn that played it. The parent may be busy with
   * another turn (a child's end it was told about), so only a turn ending after this message counts.
   */
  async function tellParent(text: string): Promise<void> {
    const sent = await api.post(`/api/tasks/${parentId}/messages`, { text });
    expect(sent.status).toBe(200);
    await waitFor(
      "the parent's turn",
      () => storedEvents(app, parentId),
      (events) => {
        const delivered = events.find((e) => e.type === "user_message" && e.payload.text === text.trim());
        return delivered !== undefined && events.some((e) => e.type === "turn_ended" && e.seq > delivered.seq);
      },
    );
  }

  it("the child says hello, gets the parent's message, commits during the grace, is stopped, and the parent is told", async () => {
    // The parent is a conversation, so it stays alive between the steps of the story.
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      mode: "conversation",
      prompt: script("Break the work up.", [
        {
          tool: "dispatch_task",
          args: {
            title: "Greeter",
            mode: "conversation",
            description: script("Say hello.", [{ say: "Hello from subtask!" }]),
          },
        },
        { say: "Dispatched a subtask." },
      ]),
    });
    expect(created.status).toBe(201);
    parentId = created.body.id;
    await waitForTask(api, parentId, (t) => t.status === "awaiting_followup" || isTerminal(t));

    const [dispatched] = toolResults(await storedEvents(app, parentId), "dispatch_task") as { taskId: string }[];
    expect(dispatched).toMatchObject({ status: "queued", blockedBy: [] });
    firstChildId = dispatched!.taskId;
    const children = await childrenOf(app, parentId);
    expect(children.map((c) => [c.id, c.depth, c.rootId])).toEqual([[firstChildId, 1, parentId]]);

    // The child runs in its own workspace and says hello; as a conversation it then waits.
    const waiting = await waitForTask(api, firstChildId, (t) => t.status === "awaiting_followup" || isTerminal(t));
    expect(waiting.status).toBe("awaiting_followup");
    expect(agentText(await storedEvents(app, firstChildId))).toContain("Hello from subtask!");

    // The parent's message carries the child's next moves: wait a moment, commit, then work on. The
    // stop (grace 3 s) arrives right after the message, so the commit lands inside the grace and the
    // hard stop interrupts the long sleep.
    const childWork = script("Record your progress, then keep going.", [
      { sleep: 1500 },
      {
        tool: "shell",
        args: {
          command:
            "echo 'written during the grace' > during-grace.txt && git add -A && git commit -q -m 'work during grace'",
        },
      },
      { sleep: 30_000 },
      { say: "never said: the stop comes first" },
    ]);
    await tellParent(
      script("Talk to the subtask, then stop it.", [
        { tool: "send_message_to_subtask", args: { taskId: firstChildId, message: childWork } },
        { tool: "stop_subtask", args: { taskId: firstChildId, reason: "the plan changed", graceSeconds: 3 } },
        { tool: "stop_subtask", args: { taskId: firstChildId, reason: "once more", graceSeconds: 30 } },
        { say: "Stopping the subtask." },
      ]),
    );
    const parentEvents = await storedEvents(app, parentId);
    expect(toolResults(parentEvents, "send_message_to_subtask")).toEqual([
      { messageId: expect.any(String), delivered: true },
    ]);
    // The first stop is under way; the second changes nothing and reports the first.
    expect(toolResults(parentEvents, "stop_subtask")).toEqual([
      { stopping: true, graceSeconds: 3, reason: "stopped by parent: the plan changed" },
      { stopping: true, graceSeconds: 3, reason: "stopped by parent: the plan changed", alreadyStopping: true },
    ]);

    const stopped = await waitForTask(api, firstChildId, isTerminal, 30_000);
    expect(stopped.status).toBe("failed");
    expect(stopped.failureReason).toBe("stopped by parent: the plan changed");

    // The child's session received the message once, from its parent, and played its script.
    const childEvents = await storedEvents(app, firstChildId);
    const fromParent = userMessages(childEvents, "parent");
    expect(fromParent).toHaveLength(1);
    expect(fromParent[0]?.payload.text).toBe(childWork);
    expect(fromParent[0]?.payload.messageId).toEqual(expect.any(String));
    const commit = childEvents.find((e) => e.type === "tool_result" && e.payload.name === "shell");
    expect(commit?.payload.status).toBe("completed");
    expect(agentText(childEvents)).not.toContain("never said");
    expect(childEvents.at(-1)).toMatchObject({
      type: "session_finished",
      payload: { outcome: "failed", reason: "stopped by parent: the plan changed" },
    });

    // The commit came after the stop was requested, and before the hard stop; the child is a
    // conversation, and a conversation never pushes, however it ends.
    const child = await withDb(app, (db) => db.query.tasks.findFirst({ where: eq(tasks.id, firstChildId) }));
    expect(child?.stopRequestedAt).not.toBeNull();
    expect(child?.stopDeliveredAt).not.toBeNull();
    expect(commit!.at).toBeGreaterThan(child!.stopRequestedAt!.getTime());
    const finishedAt = childEvents.at(-1)!.at;
    expect(finishedAt - child!.stopRequestedAt!.getTime()).toBeGreaterThanOrEqual(3000);
    expect(git(repo, "branch", "--list", "sam/greeter-*")).toBe("");

    // The chat shows the parent's message and the stop warning.
    const chat = await chatMessages(app, firstChildId);
    expect(chat.map((m) => m.authorKind)).toEqual(["parent", "parent", "system"]);
    expect(chat[1]?.content).toBe(childWork);
    // A conversation's warning says that nothing will be saved.
    expect(chat[2]?.content).toMatch(/stopped by parent: the plan changed.*3 seconds.*Nothing is saved or pushed/s);

    // The parent's session is told that its child ended, and why.
    const told = await waitFor(
      "the parent to hear of the child's end",
      async () => userMessages(await storedEvents(app, parentId), "system"),
      (found) => found.length > 0,
    );
    expect(told).toHaveLength(1);
    expect(told[0]?.payload.text).toContain(firstChildId);
    expect(told[0]?.payload.text).toContain("failed");
    expect(told[0]?.payload.text).toContain("stopped by parent: the plan changed");
  });

  it("a stop recorded while its daemon could not be reached is sent by the scheduler's next pass", async () => {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      mode: "conversation",
      prompt: script("Wait to be stopped.", [{ say: "waiting" }]),
    });
    const taskId = created.body.id;
    await waitForTask(api, taskId, (t) => t.status === "awaiting_followup" || isTerminal(t));

    // What stop_subtask leaves behind when the daemon call fails: recorded, not delivered.
    await withDb(app, (db) =>
      db.run(sql`UPDATE tasks SET stop_requested_at = ${Date.now()}, stop_reason = 'stopped by parent: resent',
        stop_grace_seconds = 1 WHERE id = ${taskId}`),
    );
    const stopped = await waitForTask(api, taskId, isTerminal, 30_000);
    expect(stopped.status).toBe("failed");
    expect(stopped.failureReason).toBe("stopped by parent: resent");
    const row = await withDb(app, (db) => db.query.tasks.findFirst({ where: eq(tasks.id, taskId) }));
    expect(row?.stopDeliveredAt).not.toBeNull();
    // Sent until the daemon took it, and shown once.
    const warnings = (await chatMessages(app, taskId)).filter((m) => m.authorKind === "system");
    expect(warnings).toHaveLength(1);
    // The warning reached the idle agent as a prompt of its own.
    expect(userMessages(await storedEvents(app, taskId), "system")).toHaveLength(1);
  });

  it("a child that finishes by itself during the grace keeps its own outcome", async () => {
    await tellParent(
      script("Dispatch a quick subtask.", [
        {
          tool: "dispatch_task",
          args: {
            title: "Quick finisher",
            description: script("Finish soon.", [
              { tool: "write_file", args: { path: "quick.txt", content: "quick\n" } },
              { sleep: 1500 },
              { tool: "complete_task", args: { summary: "finished on my own" } },
            ]),
          },
        },
      ]),
    );
    const quick = (await childrenOf(app, parentId)).find((c) => c.title === "Quick finisher")!;
    await waitFor(
      "the quick child to work",
      () => storedEvents(app, quick.id),
      (events) => events.some((e) => e.type === "tool_result" && e.payload.name === "write_file"),
    );
    await tellParent(
      script("Stop it, generously.", [
        { tool: "stop_subtask", args: { taskId: quick.id, reason: "too slow", graceSeconds: 20 } },
      ]),
    );
    const done = await waitForTask(api, quick.id, isTerminal, 15_000);
    expect(done).toMatchObject({ status: "completed", failureReason: null, summary: "finished on my own" });
  });

  it("a restart of the web app during the grace still completes the stop, and the parent is told after it", async () => {
    await tellParent(
      script("Dispatch another subtask.", [
        {
          tool: "dispatch_task",
          args: {
            title: "Long worker",
            description: script("Work for a long time.", [
              { tool: "write_file", args: { path: "started.txt", content: "started\n" } },
              { sleep: 30_000 },
            ]),
          },
        },
      ]),
    );
    const second = (await childrenOf(app, parentId)).find((c) => c.title === "Long worker")!;
    await waitFor(
      "the second child to work",
      () => storedEvents(app, second.id),
      (events) => events.some((e) => e.type === "tool_result" && e.payload.name === "write_file"),
    );

    await tellParent(
      script("Stop it.", [
        { tool: "stop_subtask", args: { taskId: second.id, reason: "restart test", graceSeconds: 4 } },
      ]),
    );
    expect(toolResults(await storedEvents(app, parentId), "stop_subtask").at(-1)).toEqual({
      stopping: true,
      graceSeconds: 4,
      reason: "stopped by parent: restart test",
    });
    await app.stop({ keepDaemons: true, keepData: true });
    // The grace runs out and the daemon stops the child while no web app listens.
    await new Promise((r) => setTimeout(r, 5000));
    app = await startAppServer({ env, port, dataDir: data.dir });
    api = await ownerApi(app);

    const stopped = await waitForTask(api, second.id, isTerminal, 60_000);
    expect(stopped.status).toBe("failed");
    expect(stopped.failureReason).toBe("stopped by parent: restart test");
    expect(git(repo, "show", `${stopped.branch}:started.txt`)).toBe("started");
    const told = await waitFor(
      "the parent to hear of the second child's end",
      async () => userMessages(await storedEvents(app, parentId), "system"),
      (found) => found.some((m) => String(m.payload.text).includes(second.id)),
      60_000,
    );
    expect(told.filter((m) => String(m.payload.text).includes(second.id))).toHaveLength(1);
  });
});

describe("messages and stops for a child that has not started", () => {
  const repos = makeTempDir("sam-inbox-repos-");
  let app: AppServer;
  let api: ApiClient;
  let projectId: string;

  beforeAll(async () => {
    // No in-process scheduler: nothing starts until the test runs a pass through the cron route.
    app = await startAppServer({ env: { SAM_SCHEDULER: "off", CRON_SECRET } });
    api = await ownerApi(app);
    const res = await api.post<{ id: string }>("/api/projects", { repo: makeGitRepo(path.join(repos.dir, "p")) });
    projectId = res.body.id;
  });
  afterAll(async () => {
    await app?.stop();
    repos.cleanup();
  });

  async function tick(): Promise<void> {
    const res = await fetch(`${app.baseUrl}/api/cron/tick`, {
      method: "POST",
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    expect(res.status).toBe(200);
  }

  async function mcpAs(taskId: string) {
    const token = await withDb(app, (db) => mintTaskToken(db, taskId));
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${app.baseUrl}/api/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return {
      call: async (name: string, args: Record<string, unknown>) => {
        const res = (await client.callTool({ name, arguments: args })) as { content: { text: string }[] };
        return JSON.parse(res.content[0]!.text) as Record<string, unknown>;
      },
      close: () => client.close(),
    };
  }

  it("a message waits in the inbox and is delivered once when the child starts; a queued child stops at once", async () => {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      mode: "conversation",
      prompt: script("Parent.", [{ say: "parent here" }]),
    });
    const parentId = created.body.id;
    const parent = await mcpAs(parentId);
    try {
      const waiting = await parent.call("dispatch_task", {
        mode: "conversation",
        description: script("Child.", [{ say: "child here" }]),
      });
      const idle = await parent.call("dispatch_task", { description: "Never needed." });
      const waitingId = String(waiting.taskId);
      const idleId = String(idle.taskId);

      const message = script("A note from your parent.", [{ say: "got the note" }]);
      const sent = await parent.call("send_message_to_subtask", { taskId: waitingId, message });
      expect(sent).toEqual({ messageId: expect.any(String), delivered: false, queued: true });
      const pending = await withDb(app, (db) =>
        db.query.inboxMessages.findMany({ where: eq(inboxMessages.taskId, waitingId) }),
      );
      expect(pending).toMatchObject([
        { id: sent.messageId, kind: "message", senderTaskId: parentId, body: message, deliveredAt: null },
      ]);

      // A child that has not started fails at once, with the reason; it cannot be stopped or told again.
      expect(await parent.call("stop_subtask", { taskId: idleId, reason: "not needed" })).toEqual({
        stopping: true,
        graceSeconds: 5,
        reason: "stopped by parent: not needed",
      });
      const idleNow = (await api.get<TaskView>(`/api/tasks/${idleId}`)).body;
      expect(idleNow).toMatchObject({ status: "failed", failureReason: "stopped by parent: not needed" });
      const history = await withDb(app, (db) =>
        db.query.taskEvents.findMany({ where: eq(taskEvents.taskId, idleId), orderBy: asc(taskEvents.id) }),
      );
      expect(history.map((h) => [h.toStatus, h.actorKind, h.actorId])).toEqual([
        ["queued", "task", parentId],
        ["failed", "task", parentId],
      ]);
      await expect(parent.call("stop_subtask", { taskId: idleId })).rejects.toThrow(/already ended \(failed\)/);
      await expect(parent.call("send_message_to_subtask", { taskId: idleId, message: "hi" })).rejects.toThrow(
        /already ended \(failed\)/,
      );
      await expect(parent.call("stop_subtask", { taskId: waitingId, graceSeconds: 31 })).rejects.toThrow(
        /graceSeconds/,
      );
      await expect(parent.call("send_message_to_subtask", { taskId: waitingId, message: "" })).rejects.toThrow(
        /message/,
      );

      // Passes of the scheduler start the parent and the child and deliver what waits for them.
      await waitFor(
        "the message to reach the child",
        async () => {
          await tick();
          return userMessages(await storedEvents(app, waitingId), "parent").length;
        },
        (n) => n > 0,
        60_000,
      );
      for (let i = 0; i < 5; i++) await tick();
      await waitForTask(api, waitingId, (t) => t.status === "awaiting_followup");

      const events = await storedEvents(app, waitingId);
      expect(userMessages(events, "parent")).toHaveLength(1);
      expect(userMessages(events, "parent")[0]?.payload.messageId).toBe(pending[0]?.id);
      expect(agentText(events)).toContain("got the note");
      const delivered = await withDb(app, (db) =>
        db.query.inboxMessages.findFirst({ where: eq(inboxMessages.id, pending[0]!.id) }),
      );
      expect(delivered?.deliveredAt).not.toBeNull();
      expect((await chatMessages(app, waitingId)).filter((m) => m.authorKind === "parent")).toHaveLength(2);

      // The stopped child's end reached the parent through its inbox once it ran.
      const told = await waitFor(
        "the parent to hear of the stopped child",
        async () => {
          await tick();
          return userMessages(await storedEvents(app, parentId), "system");
        },
        (found) => found.length > 0,
        60_000,
      );
      expect(told).toHaveLength(1);
      expect(told[0]?.payload.text).toContain(idleId);
      expect(told[0]?.payload.text).toContain("stopped by parent: not needed");
      const undelivered = await withDb(app, (db) =>
        db
          .select({ id: inboxMessages.id })
          .from(inboxMessages)
          .where(and(eq(inboxMessages.taskId, parentId), sql`${inboxMessages.deliveredAt} IS NULL`)),
      );
      expect(undelivered).toEqual([]);
    } finally {
      await parent.close();
    }
  });
});
