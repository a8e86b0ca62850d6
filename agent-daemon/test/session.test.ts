import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AgentEventPayload, type StartSession, startSessionRequestSchema } from "../src/contract.ts";
import { RequestError } from "../src/errors.ts";
import { connectHarness } from "../src/harness/acp-client.ts";
import { spawnHarnessProcess } from "../src/harness/subprocess.ts";
import type { HarnessOptions, HarnessSession } from "../src/harness/types.ts";
import { Session } from "../src/session.ts";
import { FakeHarness, testWorkspace } from "./fake-harness.ts";
import { gitIn, makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

const BRANCH = "sam/test-task-1a2b";

describe("session lifecycle (fake harness, real git)", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let source: string;
  let workspaceDir: string;
  /** Where the daemon pushes: the project repository the web app named. */
  let projectRepo: string;
  let events: AgentEventPayload[];
  let harness: FakeHarness;

  beforeEach(() => {
    temp = makeTempDir("sam-session-");
    source = makeRepo(path.join(temp.dir, "source"));
    projectRepo = source;
    workspaceDir = path.join(temp.dir, "workspace");
    gitIn(temp.dir, "clone", "--quiet", source, workspaceDir);
    gitIn(workspaceDir, "checkout", "--quiet", "-b", BRANCH);
    events = [];
    harness = new FakeHarness();
  });
  afterEach(() => temp.cleanup());

  function makeSession(
    overrides: Partial<StartSession> = {},
    startHarness?: (options: HarnessOptions) => Promise<HarnessSession>,
  ): Session {
    const request = startSessionRequestSchema.parse({
      sessionId: "session-1",
      taskId: "task-1",
      workspaceId: "ws-1",
      mode: "task",
      harness: "builtin",
      model: "scripted",
      prompt: "do the task",
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "t".repeat(43),
      ...overrides,
    });
    const session = new Session({
      request,
      workspace: testWorkspace(workspaceDir, projectRepo, BRANCH, temp.dir),
      append: (payload) => events.push(payload),
      startHarness:
        startHarness ??
        (async (options) => {
          harness.options = options;
          return harness;
        }),
    });
    session.start();
    return session;
  }

  const types = () => events.map((event) => event.type);
  const finished = () => events.find((event) => event.type === "session_finished");

  it("task mode: a turn that ends normally saves, pushes and completes with the branch and commit", async () => {
    const session = makeSession({ title: "Say hello" });
    await harness.promptNumber(1);
    expect(harness.prompts[0]).toBe("do the task");
    expect(harness.options.taskToken).toBe("t".repeat(43));
    expect(session.view().state).toBe("working");
    fs.writeFileSync(path.join(workspaceDir, "hello.txt"), "hi");
    harness.endTurn("end_turn");
    await session.done;

    expect(types()).toEqual(["session_started", "user_message", "turn_ended", "work_saved", "session_finished"]);
    const saved = events[3] as Extract<AgentEventPayload, { type: "work_saved" }>;
    expect(saved).toMatchObject({ branch: BRANCH, pushed: true });
    expect(finished()).toEqual({
      type: "session_finished",
      outcome: "completed",
      branch: BRANCH,
      commit: saved.commit,
    });
    expect(gitIn(source, "rev-parse", `refs/heads/${BRANCH}`)).toBe(saved.commit);
    expect(gitIn(source, "show", `${saved.commit}:hello.txt`)).toBe("hi");
    expect(gitIn(source, "log", "-1", "--format=%s", saved.commit)).toBe("Say hello");
    expect(harness.closed).toBe(true);
    expect(session.view().state).toBe("finished");
  });

  it("an unchanged workspace pushes nothing: the task completes with no branch", async () => {
    const session = makeSession({ title: "Just talk" });
    await harness.promptNumber(1);
    harness.options.onEvent({ type: "agent_text", text: "Nothing to change here." });
    harness.endTurn("end_turn");
    await session.done;
    const head = gitIn(workspaceDir, "rev-parse", "HEAD");
    expect(events.find((event) => event.type === "work_saved")).toEqual({
      type: "work_saved",
      branch: BRANCH,
      commit: head,
      changed: false,
      pushed: false,
    });
    expect(finished()).toEqual({ type: "session_finished", outcome: "completed" });
    expect(gitIn(source, "branch", "--list", "sam/*")).toBe("");
  });

  it("leftover changes are committed under the task's title and the agent's last message; the agent's own commits stay", async () => {
    const session = makeSession({ title: "Add the greeting" });
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "own.txt"), "committed by the agent");
    gitIn(workspaceDir, "add", "own.txt");
    gitIn(workspaceDir, "commit", "--quiet", "-m", "The agent's own commit");
    fs.writeFileSync(path.join(workspaceDir, "leftover.txt"), "left uncommitted");
    harness.options.onEvent({ type: "agent_text", text: "An earlier message." });
    harness.options.onEvent({ type: "tool_call", toolCallId: "c1", name: "shell", input: {} });
    // The last message arrives in chunks; a heading in it is text, not a comment to strip.
    harness.options.onEvent({ type: "agent_text", text: "# Done\n\nI added " });
    harness.options.onEvent({ type: "agent_text", text: `the greeting. ${"x".repeat(5_000)}` });
    harness.endTurn("end_turn");
    await session.done;
    expect(finished()).toMatchObject({ outcome: "completed", branch: BRANCH });
    const subjects = gitIn(source, "log", "--format=%s", `main..refs/heads/${BRANCH}`).split("\n");
    expect(subjects).toEqual(["Add the greeting", "The agent's own commit"]);
    const body = gitIn(source, "log", "-1", "--format=%b", `refs/heads/${BRANCH}`);
    expect(body.startsWith("# Done\n\nI added the greeting. xxx")).toBe(true);
    expect(body.length).toBeLessThanOrEqual(4_000);
    expect(body).not.toContain("An earlier message.");
    expect(gitIn(source, "show", `refs/heads/${BRANCH}:leftover.txt`)).toBe("left uncommitted");
  });

  it("an agent that only committed its own work gets no commit of the daemon's", async () => {
    const session = makeSession({ title: "Commit by hand" });
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "own.txt"), "committed by the agent");
    gitIn(workspaceDir, "add", "own.txt");
    gitIn(workspaceDir, "commit", "--quiet", "-m", "The agent's own commit");
    harness.endTurn("end_turn");
    await session.done;
    expect(finished()).toMatchObject({ outcome: "completed", branch: BRANCH });
    expect(gitIn(source, "log", "--format=%s", `main..refs/heads/${BRANCH}`)).toBe("The agent's own commit");
  });

  it("messages injected mid-turn wait for the turn's end, then go to the agent together, each recorded once", async () => {
    const session = makeSession();
    await harness.promptNumber(1);
    expect(session.inject({ messageId: "m1", text: "first note", source: "parent" })).toEqual({
      delivered: true,
      queued: true,
    });
    expect(session.inject({ messageId: "m2", text: "second note", source: "user" })).toEqual({
      delivered: true,
      queued: true,
    });
    // The same message again: the first answer, no second delivery.
    expect(session.inject({ messageId: "m1", text: "first note", source: "parent" })).toEqual({
      delivered: true,
      queued: true,
    });
    expect(harness.prompts).toHaveLength(1);
    harness.endTurn("end_turn");
    await harness.promptNumber(2);
    expect(harness.prompts[1]).toBe("first note\n\nsecond note");
    const userMessages = events.filter((event) => event.type === "user_message");
    expect(userMessages.map((event) => event.source)).toEqual(["task", "parent", "user"]);
    harness.endTurn("end_turn");
    await session.done;
    expect(finished()).toMatchObject({ outcome: "completed" });
  });

  it("conversation mode: the session goes idle after a turn and a later message starts the next turn", async () => {
    const session = makeSession({ mode: "conversation" });
    await harness.promptNumber(1);
    harness.endTurn("end_turn");
    await new Promise((resolve) => setImmediate(resolve));
    expect(session.view().state).toBe("idle");
    expect(types()).toEqual(["session_started", "user_message", "turn_ended"]);

    expect(session.inject({ messageId: "m1", text: "and now?", source: "user" })).toEqual({
      delivered: true,
      queued: false,
    });
    await harness.promptNumber(2);
    expect(session.view().state).toBe("working");
    harness.endTurn("end_turn");
    await new Promise((resolve) => setImmediate(resolve));
    expect(session.view().state).toBe("idle");
    expect(types().filter((type) => type === "turn_ended")).toHaveLength(2);
    expect(finished()).toBeUndefined();
  });

  it("task mode: an agent error fails the session with the agent's last error, after saving the work", async () => {
    const session = makeSession();
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "partial.txt"), "half done");
    harness.options.onEvent({ type: "agent_error", message: "model said no" });
    harness.endTurn("error");
    await session.done;
    expect(types()).toContain("work_saved");
    expect(finished()).toMatchObject({ outcome: "failed", reason: "agent error: model said no", branch: BRANCH });
  });

  it("a harness crash fails the session with the reason and still saves the work", async () => {
    const session = makeSession();
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "partial.txt"), "half done");
    harness.options.onCrash("harness exited with code 1");
    harness.endTurn("error");
    await session.done;
    expect(finished()).toMatchObject({ outcome: "failed", reason: "harness crashed: harness exited with code 1" });
    expect(gitIn(source, "show", `refs/heads/${BRANCH}:partial.txt`)).toBe("half done");
  });

  it("a harness that cannot start fails the session with the reason and pushes nothing", async () => {
    const session = makeSession({}, async () => {
      throw new Error("unknown model provider nope");
    });
    await session.done;
    expect(types()).toEqual(["session_started", "user_message", "session_finished"]);
    expect(finished()).toMatchObject({
      outcome: "failed",
      reason: "harness failed to start: unknown model provider nope",
    });
    expect(() => gitIn(source, "rev-parse", "--verify", "--quiet", `refs/heads/${BRANCH}`)).toThrow();
  });

  it("a stop while the harness is still starting ends its process before the session's end is recorded", async () => {
    // A real agent process that never answers ACP's initialize: the start hangs until it is ended.
    const child = spawn(process.execPath, ["-e", "process.stdin.resume(); setInterval(() => {}, 1000)"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const alive = () => {
      try {
        process.kill(child.pid!, 0);
        return true;
      } catch {
        return false;
      }
    };
    let aliveAtEnd: boolean | undefined;
    const session = makeSession({}, (options) => connectHarness(spawnHarnessProcess(child), options));
    const append = events.push.bind(events);
    events.push = (...items) => {
      if (items.some((e) => e.type === "session_finished")) aliveAtEnd = alive();
      return append(...items);
    };
    try {
      expect(session.view().state).toBe("starting");
      session.stop({ graceMs: 0, reason: "stopped while starting" });
      await session.done;
      expect(finished()).toMatchObject({ outcome: "failed", reason: "stopped while starting" });
      expect(aliveAtEnd).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a push that fails fails the session with git's first error line", async () => {
    projectRepo = path.join(temp.dir, "no-such-repo");
    const session = makeSession();
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "hello.txt"), "hi");
    harness.endTurn("end_turn");
    await session.done;
    expect(events.find((event) => event.type === "work_saved")).toMatchObject({ pushed: false });
    const end = finished() as Extract<AgentEventPayload, { type: "session_finished" }>;
    expect(end.outcome).toBe("failed");
    expect(end.reason).toMatch(/^push failed: fatal: .*no-such-repo/);
  });

  it("stop: the warning is queued for the turn's end, and after the grace the turn is cancelled, the work saved and the session failed with the reason", async () => {
    const session = makeSession();
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "during-grace.txt"), "saved by the stop");
    const started = Date.now();
    session.stop({ warning: "You will be stopped in 0.3 s", graceMs: 300, reason: "stopped by parent: enough" });
    expect(session.view().state).toBe("stopping");
    // A second stop while stopping changes nothing.
    session.stop({ graceMs: 0, reason: "another reason" });
    await session.done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(harness.cancels).toBe(1);
    expect(harness.closed).toBe(true);
    // The agent was busy the whole grace, so the warning never reached it.
    expect(harness.prompts).toHaveLength(1);
    expect(types()).toEqual(["session_started", "user_message", "turn_ended", "work_saved", "session_finished"]);
    expect(events[2]).toEqual({ type: "turn_ended", stopReason: "cancelled" });
    expect(finished()).toMatchObject({ outcome: "failed", reason: "stopped by parent: enough", branch: BRANCH });
    expect(gitIn(source, "show", `refs/heads/${BRANCH}:during-grace.txt`)).toBe("saved by the stop");
    expect(() => session.inject({ messageId: "late", text: "too late", source: "parent" })).toThrow(RequestError);
  });

  it("stop: a warning to an idle agent starts a turn at once, and the hard stop follows as soon as it goes idle again", async () => {
    const session = makeSession({ mode: "conversation" });
    await harness.promptNumber(1);
    harness.endTurn("end_turn");
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    session.stop({ warning: "Wrap up now", graceMs: 10_000, reason: "stopped by the user" });
    await harness.promptNumber(2);
    expect(harness.prompts[1]).toBe("Wrap up now");
    expect(events.at(-1)).toEqual({ type: "user_message", text: "Wrap up now", source: "system" });
    harness.endTurn("end_turn");
    await session.done;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(finished()).toMatchObject({ outcome: "failed", reason: "stopped by the user" });
  });

  it("stop: a session that finishes by itself during the grace keeps its own outcome", async () => {
    const session = makeSession();
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "hello.txt"), "hi");
    session.stop({ warning: "Finish up", graceMs: 5_000, reason: "stopped by parent" });
    harness.endTurn("end_turn");
    // The warning was queued, so it is the next turn; the agent ends that one too.
    await harness.promptNumber(2);
    harness.endTurn("end_turn");
    await session.done;
    expect(finished()).toMatchObject({ outcome: "completed", branch: BRANCH });
    expect(harness.cancels).toBe(0);
  });

  it("cancel ends the current turn and leaves a task-mode session waiting for the next message", async () => {
    const session = makeSession();
    await harness.promptNumber(1);
    await session.cancel();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.at(-1)).toEqual({ type: "turn_ended", stopReason: "cancelled" });
    expect(session.view().state).toBe("idle");
    expect(session.inject({ messageId: "m", text: "try again", source: "user" }).queued).toBe(false);
    await harness.promptNumber(2);
    harness.endTurn("end_turn");
    await session.done;
    expect(finished()).toMatchObject({ outcome: "completed" });
  });

  it("task mode with taskTurnEnd wait: the session idles after its turn and a message wakes it; finish then saves, pushes and completes", async () => {
    const session = makeSession({ taskTurnEnd: "wait" });
    await harness.promptNumber(1);
    fs.writeFileSync(path.join(workspaceDir, "hello.txt"), "hi");
    harness.endTurn("end_turn");
    await new Promise((resolve) => setImmediate(resolve));
    expect(session.view().state).toBe("idle");
    expect(finished()).toBeUndefined();

    session.inject({ messageId: "wake-1", text: "Subtask ended: completed", source: "system" });
    await harness.promptNumber(2);
    expect(() => session.finish()).toThrow(/a turn is under way/);
    harness.endTurn("end_turn");
    await new Promise((resolve) => setImmediate(resolve));
    expect(session.view().state).toBe("idle");

    session.finish();
    await session.done;
    expect(finished()).toMatchObject({ type: "session_finished", outcome: "completed", branch: BRANCH });
    expect(gitIn(source, "show", `refs/heads/${BRANCH}:hello.txt`)).toBe("hi");
    // A finish that comes again (a retry) changes nothing.
    session.finish();
    expect(types().filter((type) => type === "session_finished")).toHaveLength(1);
  });

  it("task mode with taskTurnEnd wait: a failed turn still ends the session at once", async () => {
    const session = makeSession({ taskTurnEnd: "wait" });
    await harness.promptNumber(1);
    harness.endTurn("max_tokens");
    await session.done;
    expect(finished()).toMatchObject({ outcome: "failed", reason: "agent stopped: max_tokens" });
  });

  it("a conversation cannot be finished by the web app: its user ends it", async () => {
    const session = makeSession({ mode: "conversation" });
    await harness.promptNumber(1);
    harness.endTurn("end_turn");
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => session.finish()).toThrow(/conversation/);
    expect(session.view().state).toBe("idle");
  });

  it("ignores what the harness reports after the session has finished", async () => {
    const session = makeSession();
    await harness.promptNumber(1);
    harness.endTurn("end_turn");
    await session.done;
    const count = events.length;
    harness.options.onEvent({ type: "agent_text", text: "late" });
    expect(events).toHaveLength(count);
  });
});
