import path from "node:path";
import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, inboxMessages } from "@/db/schema";
import type { ChatChunk, ChatMessage } from "@/lib/chat/chunks";
import { sendChatMessage } from "@/lib/chat/send";
import { getSessionForUser, latestTurn } from "@/lib/chat/sessions";
import { loadTranscript } from "@/lib/chat/transcript";
import { streamTurn, type TurnTarget } from "@/lib/chat/turn-stream";
import { sendUserMessage } from "@/lib/orchestrator/send-message";
import { createProject } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

describe("chat transcripts and turn streams from stored events", () => {
  let db: Db;
  let cleanup: () => void;
  const tmp = makeTempDir("sam-chat-");
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

  async function newSession(mode: "conversation" | "task") {
    const task = await createTask(db, ownerId, { projectId, prompt: "Start here", mode });
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
    return { task, session: session! };
  }

  /** Stores events the way ingest does: numbered from `from`, in order. */
  async function store(sessionId: string, from: number, events: AgentEventPayload[]) {
    await db
      .insert(agentEvents)
      .values(
        events.map((event, i) => ({ sessionId, seq: from + i, type: event.type, payload: JSON.stringify(event) })),
      );
  }

  async function collect(stream: AsyncGenerator<ChatChunk>): Promise<ChatChunk[]> {
    const out: ChatChunk[] = [];
    for await (const chunk of stream) out.push(chunk);
    return out;
  }

  const firstTurn: AgentEventPayload[] = [
    { type: "session_started", harness: "builtin", model: "scripted" },
    { type: "user_message", text: "Start here", source: "task" },
    { type: "agent_text", text: "Hel" },
    { type: "agent_text", text: "lo." },
    { type: "tool_call", toolCallId: "c1", name: "shell", input: { command: "ls" } },
    { type: "tool_result", toolCallId: "c1", name: "shell", status: "completed", output: "README.md" },
    { type: "tool_call", toolCallId: "c2", name: "read_file", input: { path: "x" } },
    { type: "tool_result", toolCallId: "c2", name: "read_file", status: "failed", output: "no such file" },
    { type: "turn_ended", stopReason: "end_turn" },
  ];

  it("splits a conversation into the messages to the agent and one reply per turn, each message marked with its sender", async () => {
    const { session } = await newSession("conversation");
    await store(session.id, 1, firstTurn);
    await store(session.id, 10, [
      { type: "user_message", text: "And then?", source: "user", messageId: "m2" },
      { type: "user_message", text: "Your subtask ended", source: "system" },
      { type: "agent_text", text: "Then this." },
      { type: "turn_ended", stopReason: "end_turn" },
    ]);
    const { messages, lastSeq, pending } = await loadTranscript(db, session.id, ownerId);
    expect(lastSeq).toBe(13);
    expect(pending).toEqual([]);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "user", "assistant"]);
    const [prompt, reply, followUp, notice, second] = messages as [
      ChatMessage,
      ChatMessage,
      ChatMessage,
      ChatMessage,
      ChatMessage,
    ];
    expect(prompt.parts).toEqual([{ type: "text", text: "Start here" }]);
    // The prompt's author is the person looking: "You".
    expect(prompt.metadata).toMatchObject({
      author: "task",
      sender: { kind: "user", id: ownerId, you: true },
      delivery: "delivered",
    });
    expect(reply.parts.filter((p) => p.type === "text").map((p) => (p as { text: string }).text)).toEqual(["Hello."]);
    const tools = reply.parts.filter((p) => p.type === "dynamic-tool");
    expect(tools.map((t) => [t.toolName, t.state])).toEqual([
      ["shell", "output-available"],
      ["read_file", "output-error"],
    ]);
    expect(followUp.parts).toEqual([{ type: "text", text: "And then?" }]);
    expect(followUp.metadata).toMatchObject({ author: "user", messageId: "m2", delivery: "delivered" });
    // What SAM says is a message of its own, marked as SAM's, not part of the reply.
    expect(notice.parts).toEqual([{ type: "text", text: "Your subtask ended" }]);
    expect(notice.metadata).toMatchObject({ author: "system", sender: { kind: "system" }, delivery: "delivered" });
    expect(second.parts).toMatchObject([{ type: "text", text: "Then this." }]);
    // Each reply's id comes from where its turn starts, so a stream of the same turn replaces it.
    expect(reply.id).toBe(`${session.id}:reply:2`);
    expect(second.id).toBe(`${session.id}:reply:10`);
  });

  it("lists a prompt the agent has not received yet as pending, so a reload keeps what the user wrote", async () => {
    const { task, session } = await newSession("conversation");
    const { messages, pending } = await loadTranscript(db, session.id, ownerId);
    expect(messages).toEqual([]);
    expect(pending).toEqual([
      {
        id: `prompt:${task.id}`,
        text: "Start here",
        sender: { kind: "user", id: ownerId, name: "Owner", you: true },
        sentAt: expect.any(Date),
        delivery: "waiting",
      },
    ]);
  });

  it("a follow-up to a session that has not started waits in its inbox and shows after the prompt", async () => {
    const { session } = await newSession("conversation");
    const sent = await sendChatMessage(db, ownerId, {
      projectId,
      sessionId: session.id,
      mode: "conversation",
      text: "One more thing",
    });
    expect(sent.target.kind).toBe("message");
    const { messages, pending } = await loadTranscript(db, session.id, ownerId);
    expect(messages).toEqual([]);
    expect(pending?.map((m) => [m.text, m.delivery])).toEqual([
      ["Start here", "waiting"],
      ["One more thing", "waiting"],
    ]);
    // Another project's id with this session is refused as if the session did not exist.
    await expect(
      sendChatMessage(db, ownerId, { projectId: "other", sessionId: session.id, mode: "conversation", text: "x" }),
    ).rejects.toMatchObject({ code: "not_found" });
  });

  it("a user's message to a task that has not started waits in its inbox; an ended task refuses one", async () => {
    const { task } = await newSession("task");
    const sent = await sendUserMessage(db, ownerId, task.id, { text: "  Mind the tests.  " });
    expect(sent).toEqual({ messageId: expect.any(String), delivered: false, queued: true });
    const waiting = await db.query.inboxMessages.findFirst({ where: eq(inboxMessages.id, sent.messageId) });
    expect(waiting).toMatchObject({
      taskId: task.id,
      body: "Mind the tests.",
      senderUserId: ownerId,
      deliveredAt: null,
    });

    await transitionTask(db, { taskId: task.id, from: ["queued"], to: "cancelled", actor: { kind: "system" } });
    await expect(sendUserMessage(db, ownerId, task.id, { text: "too late" })).rejects.toMatchObject({
      code: "conflict",
    });
    await expect(sendUserMessage(db, ownerId, task.id, { text: "   " })).rejects.toMatchObject({
      code: "invalid_input",
    });
    const outsider = await createLocalUser(db, { email: "stranger@example.com" });
    await expect(sendUserMessage(db, outsider.id, task.id, { text: "hi" })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("streams the turn that takes the awaited message and ends at its turn_ended, skipping an earlier turn", async () => {
    const { task, session } = await newSession("conversation");
    await transitionTask(db, { taskId: task.id, from: ["queued"], to: "running", actor: { kind: "system" } });
    await store(session.id, 1, firstTurn);
    const target: TurnTarget = { kind: "message", messageId: "m2" };
    const abort = new AbortController();
    const streaming = collect(
      streamTurn(db, {
        userId: ownerId,
        taskId: task.id,
        sessionId: session.id,
        mode: "conversation",
        afterSeq: 0,
        target,
        signal: abort.signal,
      }),
    );
    // The reply arrives after the stream has started waiting for it.
    await new Promise((r) => setTimeout(r, 200));
    await store(session.id, 10, [
      { type: "user_message", text: "And then?", source: "user", messageId: "m2" },
      { type: "agent_text", text: "Then this." },
      { type: "turn_ended", stopReason: "end_turn" },
      { type: "user_message", text: "A later turn", source: "user", messageId: "m3" },
      { type: "agent_text", text: "Not part of it." },
    ]);
    const chunks = await streamingWithin(streaming, 10_000);
    const visible = chunks.filter((c) => c.type !== "data-seq");
    expect(visible[0]).toEqual({ type: "start", messageId: `${session.id}:reply:10`, messageMetadata: { seq: 10 } });
    const deltas = visible.filter((c) => c.type === "text-delta").map((c) => (c as { delta: string }).delta);
    expect(deltas).toEqual(["Then this."]);
    expect(visible.at(-1)).toEqual({ type: "finish" });
    abort.abort();
  });

  it("replays a turn under way from its start, and reports where the latest turn starts", async () => {
    const { task, session } = await newSession("task");
    await transitionTask(db, { taskId: task.id, from: ["queued"], to: "running", actor: { kind: "system" } });
    await store(session.id, 1, firstTurn.slice(0, 6));
    const turn = await latestTurn(db, session);
    expect(turn).toEqual({ startSeq: 2, ended: false, lastSeq: 6 });

    const abort = new AbortController();
    const streaming = collect(
      streamTurn(db, {
        userId: ownerId,
        taskId: task.id,
        sessionId: session.id,
        mode: "task",
        afterSeq: 6,
        target: { kind: "turn", startSeq: 2 },
        signal: abort.signal,
      }),
    );
    await store(session.id, 7, [
      { type: "turn_ended", stopReason: "end_turn" },
      { type: "work_saved", branch: "sam/x", commit: "abc1234", pushed: true },
      { type: "session_finished", outcome: "completed", branch: "sam/x" },
    ]);
    const chunks = await streamingWithin(streaming, 10_000);
    const types = chunks.filter((c) => c.type !== "data-seq").map((c) => c.type);
    // Everything from the turn's start again (the browser replaces its copy), through the finish.
    expect(types).toEqual([
      "start",
      "text-start",
      "text-delta",
      "text-delta",
      "text-end",
      "tool-input-available",
      "tool-output-available",
      "data-workSaved",
      "data-finished",
      "finish",
    ]);
    expect((await latestTurn(db, session))?.ended).toBe(true);
    abort.abort();
  });

  it("a session of a project the user is not in does not exist for them", async () => {
    const { session } = await newSession("conversation");
    const outsider = await createLocalUser(db, { email: "outsider@example.com" });
    await expect(getSessionForUser(db, outsider.id, session.id)).rejects.toMatchObject({ code: "not_found" });
    await expect(getSessionForUser(db, ownerId, "no-such-session")).rejects.toMatchObject({ code: "not_found" });
  });
});

async function streamingWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`The stream did not end within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
