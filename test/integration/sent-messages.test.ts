import path from "node:path";
import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, tasks } from "@/db/schema";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { sendMessageToSubtask, sendUserMessage } from "@/lib/orchestrator/send-message";
import { stopSubtask, stopWarningOf } from "@/lib/orchestrator/stop";
import { createProject } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { unreceivedMessages, withSenders } from "@/lib/tasks/sent-messages";
import { agentEventsOf } from "@/lib/tasks/show-task";
import { transitionTask } from "@/lib/tasks/transition";
import { type TaskFeedItem, watchTask } from "@/lib/tasks/watch-task";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

describe("messages sent to a task's session, with their sender and delivery", () => {
  let db: Db;
  let cleanup: () => void;
  const tmp = makeTempDir("sam-sent-");
  let ownerId: string;
  let projectId: string;

  beforeAll(async () => {
    ({ db, cleanup } = await makeTestDb());
    ownerId = (await ensureInstanceOwner(db)).id;
    projectId = (await createProject(db, ownerId, { repo: makeGitRepo(path.join(tmp.dir, "repo")) })).id;
  });
  afterAll(() => {
    cleanup();
    tmp.cleanup();
  });

  const row = async (taskId: string) => (await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) }))!;
  const sessionOf = async (taskId: string) =>
    (await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) }))!.id;

  /** A parent task and a running child it dispatched (no node: messages wait in the inbox). */
  async function family() {
    const parent = await createTask(db, ownerId, { projectId, prompt: "Plan it", mode: "conversation" });
    const { taskId } = await dispatchTask(
      db,
      { taskId: parent.id, projectId },
      { title: "Write the parser", description: "Parse it" },
    );
    await transitionTask(db, { taskId, from: ["queued"], to: "running", actor: { kind: "system" } });
    return { parentId: parent.id, childId: taskId, sessionId: await sessionOf(taskId) };
  }

  async function store(sessionId: string, events: AgentEventPayload[]) {
    const [last] = await db.all<{ seq: number | null }>(
      sql`SELECT max(seq) AS seq FROM agent_events WHERE session_id = ${sessionId}`,
    );
    await db.insert(agentEvents).values(
      events.map((event, i) => ({
        sessionId,
        seq: (last?.seq ?? 0) + i + 1,
        type: event.type,
        payload: JSON.stringify(event),
      })),
    );
  }

  it("a parent's message waits marked with the parent's title, and leaves the list once the agent received it", async () => {
    const { parentId, childId, sessionId } = await family();
    await store(sessionId, [{ type: "user_message", text: "Parse it", source: "task" }]);
    const sent = await sendMessageToSubtask(
      db,
      { kind: "task", taskId: parentId, projectId },
      { taskId: childId, message: "Use the new grammar" },
    );
    expect(await unreceivedMessages(db, await row(childId), sessionId, ownerId)).toEqual([
      {
        id: sent.messageId,
        text: "Use the new grammar",
        sender: { kind: "parent", id: parentId, title: "Plan it" },
        sentAt: expect.any(Date),
        delivery: "waiting",
      },
    ]);

    await store(sessionId, [
      { type: "user_message", text: "Use the new grammar", source: "parent", messageId: sent.messageId },
    ]);
    expect(await unreceivedMessages(db, await row(childId), sessionId, ownerId)).toEqual([]);
    const events = await withSenders(db, await row(childId), await agentEventsOf(db, sessionId), ownerId);
    expect(events.map((e) => e.sender)).toEqual([
      // The prompt of a dispatched task is the parent's.
      { kind: "parent", id: parentId, title: "Plan it" },
      { kind: "parent", id: parentId, title: "Plan it" },
    ]);
  });

  it("a person's message is theirs: 'you' to them, their name to anyone else", async () => {
    const { childId, sessionId } = await family();
    await store(sessionId, [{ type: "user_message", text: "Parse it", source: "task" }]);
    const member = await createLocalUser(db, { email: "ada@example.com", name: "Ada" });
    await db.run(
      sql`INSERT INTO project_members (project_id, user_id, role) VALUES (${projectId}, ${member.id}, 'member')`,
    );
    const sent = await sendUserMessage(db, member.id, childId, { text: "Keep it small" });
    const [asAda] = await unreceivedMessages(db, await row(childId), sessionId, member.id);
    const [asOwner] = await unreceivedMessages(db, await row(childId), sessionId, ownerId);
    expect(asAda?.sender).toEqual({ kind: "user", id: member.id, name: "Ada", you: true });
    expect(asOwner?.sender).toEqual({ kind: "user", id: member.id, name: "Ada" });

    await store(sessionId, [
      { type: "user_message", text: "Keep it small", source: "user", messageId: sent.messageId },
    ]);
    const events = await withSenders(db, await row(childId), await agentEventsOf(db, sessionId), ownerId);
    expect(events.at(-1)?.sender).toEqual({ kind: "user", id: member.id, name: "Ada" });
  });

  it("a stop's warning is SAM's: pending until the agent has it, not delivered if the session ended first", async () => {
    const { parentId, childId, sessionId } = await family();
    await store(sessionId, [{ type: "user_message", text: "Parse it", source: "task" }]);
    await stopSubtask(db, { kind: "task", taskId: parentId, projectId }, { taskId: childId, reason: "enough" });
    const stopped = await row(childId);
    const warning = stopWarningOf({
      mode: stopped.mode,
      stopReason: stopped.stopReason!,
      stopGraceSeconds: stopped.stopGraceSeconds!,
      stopEnds: stopped.stopEnds,
    });
    expect(warning).toContain("You are being stopped (stopped by parent: enough)");
    expect(await unreceivedMessages(db, stopped, sessionId)).toEqual([
      expect.objectContaining({
        id: `stop:${childId}`,
        text: warning,
        sender: { kind: "system" },
        delivery: "waiting",
      }),
    ]);

    // The daemon took the stop, then the session ended before the agent's turn did.
    await db.update(tasks).set({ stopDeliveredAt: new Date() }).where(eq(tasks.id, childId));
    expect((await unreceivedMessages(db, await row(childId), sessionId))[0]?.delivery).toBe("queued");
    await transitionTask(db, { taskId: childId, from: ["running"], to: "failed", actor: { kind: "node" } });
    expect((await unreceivedMessages(db, await row(childId), sessionId))[0]?.delivery).toBe("undelivered");

    // Received, it is part of the session's events and no longer listed.
    await store(sessionId, [{ type: "user_message", text: warning, source: "system" }]);
    expect(await unreceivedMessages(db, await row(childId), sessionId)).toEqual([]);
  });

  it("a stop that ended a task before any node had it sent no warning, so none is listed", async () => {
    const parent = await createTask(db, ownerId, { projectId, prompt: "Plan", mode: "conversation" });
    const { taskId } = await dispatchTask(db, { taskId: parent.id, projectId }, { description: "Later" });
    await stopSubtask(db, { kind: "task", taskId: parent.id, projectId }, { taskId });
    const ended = await row(taskId);
    expect(ended.status).toBe("failed");
    // Only its prompt, which never reached an agent.
    expect((await unreceivedMessages(db, ended, await sessionOf(taskId))).map((m) => [m.id, m.delivery])).toEqual([
      [`prompt:${taskId}`, "undelivered"],
    ]);
  });

  it("a task's feed says when a message is sent and again when the agent received it", async () => {
    const { childId, sessionId } = await family();
    await store(sessionId, [{ type: "user_message", text: "Parse it", source: "task" }]);
    const abort = new AbortController();
    const feed = watchTask(db, ownerId, childId, { afterSeq: 1, signal: abort.signal, pollMs: 50 });
    const next = async (kind: TaskFeedItem["kind"]) => {
      for (;;) {
        const { value, done } = await feed.next();
        if (done) throw new Error("the feed ended");
        if (value.kind === kind) return value;
      }
    };
    try {
      expect(await next("messages")).toEqual({ kind: "messages", messages: [] });
      const sent = await sendUserMessage(db, ownerId, childId, { text: "Hello there" });
      expect(await next("messages")).toMatchObject({
        messages: [{ id: sent.messageId, sender: { kind: "user", you: true }, delivery: "waiting" }],
      });
      await store(sessionId, [
        { type: "user_message", text: "Hello there", source: "user", messageId: sent.messageId },
      ]);
      expect(await next("agent")).toMatchObject({ event: { sender: { kind: "user", you: true } } });
      expect(await next("messages")).toEqual({ kind: "messages", messages: [] });
    } finally {
      abort.abort();
      await feed.return(undefined);
    }
  });
});
