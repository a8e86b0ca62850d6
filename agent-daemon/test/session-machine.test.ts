import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AgentEventPayload,
  SESSION_STATES,
  type SessionState,
  type StartSession,
  startSessionRequestSchema,
} from "../src/contract.ts";
import type { HarnessSession } from "../src/harness/types.ts";
import { canMove, SESSION_MOVES, Session } from "../src/session.ts";
import { FakeHarness, testWorkspace } from "./fake-harness.ts";
import { gitIn, makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

/** Every move a session may make; any other pair of states is refused. */
const ALLOWED: [SessionState, SessionState][] = [
  ["starting", "working"],
  ["starting", "stopping"],
  ["starting", "ending"],
  ["working", "idle"],
  ["working", "stopping"],
  ["working", "ending"],
  ["idle", "working"],
  ["idle", "ending"],
  ["stopping", "ending"],
  ["ending", "finished"],
];

describe("the session state machine's table", () => {
  it("lists exactly the states of the contract", () => {
    expect(Object.keys(SESSION_MOVES).sort()).toEqual([...SESSION_STATES].sort());
  });

  for (const from of SESSION_STATES) {
    for (const to of SESSION_STATES) {
      const allowed = ALLOWED.some(([a, b]) => a === from && b === to);
      it(`${allowed ? "allows" : "refuses"} ${from} → ${to}`, () => {
        expect(canMove(from, to)).toBe(allowed);
      });
    }
  }

  it("says what makes each allowed move", () => {
    for (const [from, to] of ALLOWED) {
      expect((SESSION_MOVES[from] as Partial<Record<SessionState, string>>)[to]).toMatch(/\w/);
    }
  });
});

const BRANCH = "sam/machine-test-1a2b";

describe("every way a session ends goes through the table (fake harness, real git)", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let source: string;
  let workspaceDir: string;
  let events: AgentEventPayload[];
  let moves: SessionState[];
  let harness: FakeHarness;

  beforeEach(() => {
    temp = makeTempDir("sam-machine-");
    source = makeRepo(path.join(temp.dir, "source"));
    workspaceDir = path.join(temp.dir, "workspace");
    gitIn(temp.dir, "clone", "--quiet", source, workspaceDir);
    gitIn(workspaceDir, "checkout", "--quiet", "-b", BRANCH);
    events = [];
    moves = ["starting"];
    harness = new FakeHarness();
  });
  afterEach(() => temp.cleanup());

  /** A session whose agent wrote a file in its first turn (something a save would push). */
  async function started(
    overrides: Partial<StartSession> = {},
    startHarness?: () => Promise<HarnessSession>,
  ): Promise<Session> {
    const request = startSessionRequestSchema.parse({
      sessionId: "session-1",
      taskId: "task-1",
      workspaceId: "ws-1",
      mode: "conversation",
      harness: "builtin",
      model: "scripted",
      prompt: "let us talk",
      mcpUrl: "http://127.0.0.1:9/api/mcp",
      taskToken: "t".repeat(43),
      ...overrides,
    });
    const session = new Session({
      request,
      workspace: testWorkspace(workspaceDir, source, BRANCH, temp.dir),
      append: (payload) => events.push(payload),
      startHarness:
        startHarness ??
        (async (options) => {
          harness.options = options;
          return harness;
        }),
      onMove: (state) => moves.push(state),
    });
    session.start();
    if (!startHarness) {
      await harness.promptNumber(1);
      fs.writeFileSync(path.join(workspaceDir, "notes.md"), "worth keeping?");
    }
    return session;
  }

  const finished = () => events.find((event) => event.type === "session_finished");
  const pushedBranches = () => gitIn(source, "branch", "--list", "sam/*");
  /** Lets the session react to what the test just did (a turn's end is handled asynchronously). */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it("a task whose turn ends saves, pushes and completes: starting → working → ending → finished", async () => {
    const session = await started({ mode: "task" });
    harness.endTurn("end_turn");
    await session.done;
    expect(moves).toEqual(["starting", "working", "ending", "finished"]);
    expect(finished()).toMatchObject({ outcome: "completed", branch: BRANCH });
    expect(pushedBranches()).toContain(BRANCH);
  });

  it("a conversation ended by its user completes and pushes nothing: … idle → working → stopping → ending", async () => {
    const session = await started();
    harness.endTurn("end_turn");
    await settle();
    session.stop({ warning: "The user is ending this conversation", graceMs: 60_000, reason: "ended", end: true });
    // The warning is a turn of its own; when it ends, so does the conversation.
    await harness.promptNumber(2);
    harness.endTurn("end_turn");
    await session.done;
    expect(moves).toEqual(["starting", "working", "idle", "working", "stopping", "ending", "finished"]);
    expect(finished()).toEqual({ type: "session_finished", outcome: "completed", reason: "ended" });
    expect(pushedBranches()).toBe("");
  });

  it("a conversation ended mid-reply is interrupted, takes the warning as its next turn, and ends after it", async () => {
    const session = await started();
    session.stop({ warning: "The user is ending this conversation", graceMs: 60_000, reason: "ended", end: true });
    // The reply under way is cancelled at once; the warning is what the agent reads next, within the grace.
    await harness.promptNumber(2);
    expect(harness.cancels).toBe(1);
    expect(harness.prompts[1]).toBe("The user is ending this conversation");
    expect(events.map((event) => event.type)).toEqual([
      "session_started",
      "user_message",
      "turn_ended",
      "user_message",
    ]);
    harness.endTurn("end_turn");
    await session.done;
    expect(moves).toEqual(["starting", "working", "stopping", "ending", "finished"]);
    expect(finished()).toEqual({ type: "session_finished", outcome: "completed", reason: "ended" });
    expect(pushedBranches()).toBe("");
  });

  it("a stopped conversation fails with the reason and pushes nothing: working → stopping → ending", async () => {
    const session = await started();
    session.stop({ graceMs: 0, reason: "stopped by parent: enough" });
    await session.done;
    expect(moves).toEqual(["starting", "working", "stopping", "ending", "finished"]);
    expect(finished()).toEqual({ type: "session_finished", outcome: "failed", reason: "stopped by parent: enough" });
    expect(events.some((event) => event.type === "work_saved")).toBe(false);
    expect(pushedBranches()).toBe("");
  });

  it("an idle conversation stopped without a warning ends at once: idle → ending", async () => {
    const session = await started();
    harness.endTurn("end_turn");
    await settle();
    session.stop({ graceMs: 60_000, reason: "stopped by user: no" });
    await session.done;
    expect(moves).toEqual(["starting", "working", "idle", "ending", "finished"]);
    expect(pushedBranches()).toBe("");
  });

  it("a conversation whose harness crashes fails and pushes nothing: working → ending", async () => {
    const session = await started();
    harness.options.onCrash("harness exited with code 1");
    harness.endTurn("error");
    await session.done;
    expect(moves).toEqual(["starting", "working", "ending", "finished"]);
    expect(finished()).toMatchObject({ outcome: "failed", reason: "harness crashed: harness exited with code 1" });
    expect(pushedBranches()).toBe("");
  });

  it("a conversation ended by the daemon's shutdown fails and pushes nothing, even mid-stop: stopping → ending", async () => {
    const session = await started();
    session.stop({ graceMs: 60_000, reason: "stopped by user: later" });
    await session.terminate("the node daemon shut down");
    expect(moves).toEqual(["starting", "working", "stopping", "ending", "finished"]);
    // The stop in progress keeps its reason.
    expect(finished()).toEqual({ type: "session_finished", outcome: "failed", reason: "stopped by user: later" });
    expect(pushedBranches()).toBe("");
  });

  it("a stopped task saves and pushes what its agent wrote", async () => {
    const session = await started({ mode: "task" });
    session.stop({ graceMs: 0, reason: "stopped by parent: enough" });
    await session.done;
    expect(finished()).toMatchObject({ outcome: "failed", reason: "stopped by parent: enough", branch: BRANCH });
    expect(gitIn(source, "show", `refs/heads/${BRANCH}:notes.md`)).toBe("worth keeping?");
  });

  it("a harness that cannot start ends the session with nothing saved: starting → ending", async () => {
    const session = await started({ mode: "task" }, async () => {
      throw new Error("unknown model provider nope");
    });
    await session.done;
    expect(moves).toEqual(["starting", "ending", "finished"]);
    expect(finished()).toMatchObject({
      outcome: "failed",
      reason: "harness failed to start: unknown model provider nope",
    });
    expect(pushedBranches()).toBe("");
  });

  it("a stop during the harness's start lets the first turn run its grace: starting → stopping → ending", async () => {
    let boot!: (harness: HarnessSession) => void;
    const session = await started(
      {},
      () =>
        new Promise((resolve) => {
          boot = resolve;
        }),
    );
    session.stop({ warning: "wrap up", graceMs: 60_000, reason: "stopped by user: early" });
    expect(session.view().state).toBe("stopping");
    boot(harness);
    await harness.promptNumber(1);
    // The warning waited for the first turn and follows it; the turn after it ends the session.
    harness.endTurn("end_turn");
    await harness.promptNumber(2);
    expect(harness.prompts[1]).toBe("wrap up");
    harness.endTurn("end_turn");
    await session.done;
    expect(moves).toEqual(["starting", "stopping", "ending", "finished"]);
    expect(finished()).toMatchObject({ outcome: "failed", reason: "stopped by user: early" });
  });

  it("a stop or a message after the end changes nothing", async () => {
    const session = await started();
    await session.terminate("the node daemon shut down");
    const count = events.length;
    session.stop({ graceMs: 0, reason: "too late" });
    expect(() => session.inject({ messageId: "late", text: "hello?", source: "user" })).toThrow(/has ended/);
    expect(events).toHaveLength(count);
    expect(moves.at(-1)).toBe("finished");
  });
});
