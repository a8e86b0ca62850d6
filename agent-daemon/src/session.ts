import type {
  AgentEventPayload,
  InjectMessageRequest,
  SessionResponse,
  SessionState,
  StartSession,
  StopSessionRequest,
} from "./contract.ts";
import { RequestError } from "./errors.ts";
import { type SavedWork, saveCommitMessage, saveWork, workspaceGit } from "./git-save.ts";
import type { HarnessEvent, HarnessOptions, HarnessSession, StopReason } from "./harness/types.ts";
import { log } from "./log.ts";
import type { Workspace } from "./workspaces.ts";

export type StartHarness = (options: HarnessOptions) => Promise<HarnessSession>;

export interface SessionDeps {
  request: StartSession;
  workspace: Workspace;
  /** Stores one event of this session in the outbox, with the next sequence number. */
  append: (payload: AgentEventPayload) => void;
  startHarness: StartHarness;
  /** Told after every move of the session (the daemon retires an orphaned node once nothing is busy). */
  onMove?: (state: SessionState) => void;
}

export interface InjectResult {
  delivered: true;
  queued: boolean;
}

interface Message {
  text: string;
  source: "user" | "parent" | "system";
  messageId?: string;
}

type Outcome = { outcome: "completed"; reason?: string } | { outcome: "failed"; reason: string };

/**
 * Every state a session can be in and every move it can make, with what makes it: the only moves
 * there are (`move` refuses any other). Every way a session ends goes through `ending`, which is
 * where the one rule about saving lives: only a task-mode session whose harness ran saves and pushes;
 * a conversation never does, however it ends.
 */
export const SESSION_MOVES = {
  starting: {
    working: "the harness started: the first turn runs",
    stopping: "a stop arrived while the harness was starting",
    ending: "the harness could not start, or the daemon shut down",
  },
  working: {
    idle: "the turn ended and the agent waits for a message (a conversation, a cancelled turn, or a task whose web app decides when it is over)",
    stopping: "a stop arrived",
    ending: "a task's turn ended, the harness crashed, or the daemon shut down",
  },
  idle: {
    working: "a message arrived",
    ending: "a finish or a stop without a warning arrived, the harness crashed, or the daemon shut down",
  },
  stopping: {
    ending: "the grace ran out, the agent's turn ended, the harness failed or crashed, or the daemon shut down",
  },
  ending: {
    finished: "the harness is closed, the work saved (task mode only) and session_finished is in the outbox",
  },
  finished: {},
} as const satisfies Record<SessionState, Partial<Record<SessionState, string>>>;

export function canMove(from: SessionState, to: SessionState): boolean {
  return to in SESSION_MOVES[from];
}

// How long the daemon waits for a harness to honour a cancel or a close before moving on without it:
// a stuck agent must not keep a stop from finishing.
const HARNESS_WAIT_MS = 5_000;
const START_FAILED = "harness failed to start";

/** Waits for `promise` to settle, but no longer than `ms`; never rejects. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One agent session in one workspace: runs the harness turn by turn, records every step in the
 * outbox, takes messages (now if the agent is idle, after its turn if it is busy), and ends exactly
 * once, always the same way (see `SESSION_MOVES`).
 */
export class Session {
  private state: SessionState = "starting";
  private harness: HarnessSession | undefined;
  /** The running chain of turns; settles when the agent goes idle or the session ends. */
  private turns: Promise<void> = Promise.resolve();
  private readonly queue: Message[] = [];
  /** Answers already given, by message id: a repeated delivery gets the same answer, not a second turn. */
  private readonly answered = new Map<string, InjectResult>();
  private lastAgentError: string | undefined;
  /** The agent's last message (its consecutive text chunks), the body of the save commit. */
  private lastAgentText: string | undefined;
  private textContinues = false;
  /** The stop being carried out, once one was accepted. */
  private stopRequest: StopSessionRequest | undefined;
  /** The stop found a turn under way: if that turn ends normally, a task keeps its own outcome. */
  private stopDuringTurn = false;
  private graceTimer: NodeJS.Timeout | undefined;
  /** The harness's start, settled once it runs or was given up (and then closed). */
  private booting: Promise<void> = Promise.resolve();
  /** Stops a harness still starting when the session ends first. */
  private readonly startAborter = new AbortController();
  /** The end in progress, shared by everyone who asks for it. */
  private ending: Promise<void> | undefined;
  private markFinished!: () => void;
  private readonly finished = new Promise<void>((resolve) => {
    this.markFinished = resolve;
  });

  constructor(private readonly deps: SessionDeps) {}

  get id(): string {
    return this.deps.request.sessionId;
  }

  get taskId(): string {
    return this.deps.request.taskId;
  }

  get workspaceId(): string {
    return this.deps.request.workspaceId;
  }

  get isFinished(): boolean {
    return this.state === "finished";
  }

  /**
   * An idle task-mode session: its agent waits on others (its subtasks, a person) until the web app
   * sends a message or finishes it. Its workspace takes no share of the node's capacity.
   */
  get isParked(): boolean {
    return this.state === "idle" && this.deps.request.mode === "task";
  }

  /** Whether the agent or the daemon is doing something for this session (not waiting for a message). */
  get isBusy(): boolean {
    return this.state !== "idle" && this.state !== "finished";
  }

  /** Settles once `session_finished` is in the outbox. */
  get done(): Promise<void> {
    return this.finished;
  }

  view(): SessionResponse {
    return { sessionId: this.id, taskId: this.taskId, state: this.state };
  }

  /** Records the start and the task's prompt, then boots the harness and runs the first turn. */
  start(): void {
    const { request } = this.deps;
    this.append({ type: "session_started", harness: request.harness, model: request.model });
    this.append({ type: "user_message", text: request.prompt, source: "task" });
    this.booting = this.boot();
  }

  inject(message: InjectMessageRequest): InjectResult {
    const earlier = this.answered.get(message.messageId);
    if (earlier) return earlier;
    if (this.isOver()) {
      throw new RequestError(409, "session_finished", `Session ${this.id} has ended and takes no more messages`);
    }
    const result = this.deliver(message);
    this.answered.set(message.messageId, result);
    return result;
  }

  /**
   * Ends an idle task-mode session as completed (saved and pushed), as its turn's end would have
   * without `taskTurnEnd: wait`. Refused while a turn runs: that turn's end is the next chance. A
   * session already ending or over is left as it is.
   */
  finish(): void {
    if (this.isOver() || this.state === "stopping") return;
    if (this.deps.request.mode !== "task") {
      throw new RequestError(409, "not_a_task", `Session ${this.id} is a conversation; the user ends it`);
    }
    if (this.state !== "idle") {
      throw new RequestError(409, "session_busy", `Session ${this.id} is ${this.state}; a turn is under way`);
    }
    void this.end({ outcome: "completed" });
  }

  /** Cancels the turn in progress, if any; queued messages still follow. */
  async cancel(): Promise<void> {
    if (this.isOver()) throw new RequestError(409, "session_finished", `Session ${this.id} has ended`);
    if (this.turnRunning()) await within(this.harness!.cancel(), HARNESS_WAIT_MS);
  }

  /**
   * The stop protocol, run in the background: the warning (if any) reaches the agent now or after
   * its current turn; the agent gets `graceMs` to wrap up (a task that finishes by itself keeps its
   * own outcome); then the turn is cancelled and the session ends — failed with `reason`, or, for an
   * `end` (a user ending their conversation), completed. Ending a conversation interrupts the reply
   * under way, so that the warning is the agent's next turn at once and the grace is its to wrap up.
   * A stop of a stopping or ended session changes nothing.
   */
  stop(request: StopSessionRequest): void {
    if (this.state === "stopping" || this.isOver()) return;
    this.stopRequest = request;
    const busy = this.turnRunning();
    this.stopDuringTurn = busy;
    // An idle agent takes the warning as a new turn, which the stop then waits for.
    if (request.warning) this.deliver({ text: request.warning, source: "system" });
    if (this.state === "idle") {
      void this.end(this.stopOutcome(request));
      return;
    }
    this.move("stopping");
    if (busy && request.end && request.warning) void within(this.harness!.cancel(), HARNESS_WAIT_MS);
    this.graceTimer = setTimeout(() => void this.end(this.stopOutcome(request), { cancel: true }), request.graceMs);
  }

  /** Ends the session now, without a grace period (the daemon is going away); a stop in progress keeps its outcome. */
  terminate(reason: string): Promise<void> {
    const outcome = this.stopRequest ? this.stopOutcome(this.stopRequest) : { outcome: "failed" as const, reason };
    return this.end(outcome, { cancel: true });
  }

  private stopOutcome(request: StopSessionRequest): Outcome {
    return request.end
      ? { outcome: "completed", reason: request.reason }
      : { outcome: "failed", reason: request.reason };
  }

  private isOver(): boolean {
    return this.state === "ending" || this.state === "finished";
  }

  /** In `stopping` the agent is booting or in a turn: a turn that ends there ends the session. */
  private turnRunning(): boolean {
    return (this.state === "working" || this.state === "stopping") && this.harness !== undefined;
  }

  private move(to: SessionState): void {
    if (!canMove(this.state, to)) throw new Error(`session ${this.id}: no move from ${this.state} to ${to}`);
    this.state = to;
    this.deps.onMove?.(to);
  }

  private async boot(): Promise<void> {
    const { request, workspace } = this.deps;
    // The agent commits too (task mode says so); it needs an identity on nodes without a global one.
    // One after the other: each `git config` write locks the config file.
    const identity = workspaceGit(workspace.path, ["config", "user.name", request.gitAuthorName])
      .then(() => workspaceGit(workspace.path, ["config", "user.email", request.gitAuthorEmail]))
      .catch((err: unknown) => log(`session ${this.id}: could not set the git identity: ${errorMessage(err)}`));
    let harness: HarnessSession;
    try {
      harness = await this.deps.startHarness({
        kind: request.harness,
        agentCommand: request.agentCommand,
        permissionPolicy: request.permissionPolicy,
        cwd: workspace.path,
        mode: request.mode,
        model: request.model,
        modelApiKey: request.modelApiKey,
        modelBaseUrl: request.modelBaseUrl,
        mcpUrl: request.mcpUrl,
        taskToken: request.taskToken,
        network: request.network,
        workspaceId: request.workspaceId,
        onEvent: (event) => this.onHarnessEvent(event),
        onCrash: (reason) => this.onCrash(reason),
        onModelUnreachable: (reason) => this.onModelUnreachable(reason),
        signal: this.startAborter.signal,
      });
    } catch (err) {
      await identity;
      const reason = errorMessage(err);
      void this.end({
        outcome: "failed",
        reason: reason.startsWith(START_FAILED) ? reason : `${START_FAILED}: ${reason}`,
      });
      return;
    }
    await identity;
    if (this.isOver()) {
      // Ended while the harness was starting.
      await within(harness.close(), HARNESS_WAIT_MS);
      return;
    }
    this.harness = harness;
    // A stop that arrived during the boot lets the first turn run for its grace.
    if (this.state === "starting") this.move("working");
    this.runTurns(request.prompt);
  }

  private onHarnessEvent(event: HarnessEvent): void {
    if (event.type === "agent_error") this.lastAgentError = event.message;
    if (event.type === "agent_text") {
      this.lastAgentText = this.textContinues ? `${this.lastAgentText ?? ""}${event.text}` : event.text;
    }
    this.textContinues = event.type === "agent_text";
    this.append(event);
  }

  private onCrash(reason: string): void {
    // The harness exits when the end closes it; that is not a crash.
    if (this.isOver()) return;
    void this.end({ outcome: "failed", reason: `harness crashed: ${reason}` });
  }

  /**
   * The model server is not there: a task fails saying so, and a conversation's reply is cancelled
   * with the reason shown (its next message tries again), instead of waiting out the agent's retries.
   */
  private onModelUnreachable(reason: string): void {
    // A stop under way keeps its own outcome.
    if (this.isOver() || this.state === "stopping") return;
    if (this.deps.request.mode === "task") {
      void this.end({ outcome: "failed", reason }, { cancel: true });
      return;
    }
    if (!this.turnRunning()) return;
    this.append({ type: "agent_error", message: reason });
    void within(this.harness!.cancel(), HARNESS_WAIT_MS);
  }

  private deliver(message: Message): InjectResult {
    if (this.state === "idle") {
      this.appendUserMessage(message);
      this.move("working");
      this.runTurns(message.text);
      return { delivered: true, queued: false };
    }
    this.queue.push(message);
    return { delivered: true, queued: true };
  }

  private appendUserMessage(message: Message): void {
    this.append({ type: "user_message", text: message.text, source: message.source, messageId: message.messageId });
  }

  private runTurns(text: string): void {
    this.turns = this.turnLoop(text).catch((err: unknown) => {
      // Only the outbox can fail here (a broken disk); nothing more can be recorded for the session.
      log(`session ${this.id}: ${errorMessage(err)}`);
    });
  }

  /** Runs turns until the agent is idle with nothing queued, or the session ends. */
  private async turnLoop(first: string): Promise<void> {
    let text = first;
    for (;;) {
      let stopReason: StopReason;
      try {
        stopReason = await this.harness!.prompt(text);
      } catch (err) {
        this.append({ type: "turn_ended", stopReason: "error" });
        void this.end({ outcome: "failed", reason: `harness crashed: ${errorMessage(err)}` });
        return;
      }
      this.append({ type: "turn_ended", stopReason });
      if (this.isOver()) return;
      const next = this.takeQueued();
      if (next !== undefined) {
        text = next;
        continue;
      }
      // A cancelled turn waits for the next message in both modes; a conversation always does, and
      // so does a task whose web app decides when it is over.
      const { mode, taskTurnEnd } = this.deps.request;
      if (
        stopReason === "cancelled" ||
        mode === "conversation" ||
        (taskTurnEnd === "wait" && stopReason === "end_turn")
      ) {
        // A task whose own turn ended normally during a stop's grace finished by itself, as it would
        // without `wait`; a stop that found it idle (its warning was the turn) ends it stopped.
        if (this.stopRequest)
          void this.end(
            mode === "task" && stopReason === "end_turn" && this.stopDuringTurn
              ? this.taskOutcome(stopReason)
              : this.stopOutcome(this.stopRequest),
          );
        else this.move("idle");
        return;
      }
      void this.end(this.taskOutcome(stopReason));
      return;
    }
  }

  /** Everything queued, as one prompt; each message is recorded as it reaches the agent. */
  private takeQueued(): string | undefined {
    if (this.queue.length === 0) return undefined;
    const messages = this.queue.splice(0);
    for (const message of messages) this.appendUserMessage(message);
    return messages.map((message) => message.text).join("\n\n");
  }

  private taskOutcome(stopReason: StopReason): Outcome {
    if (stopReason === "end_turn") return { outcome: "completed" };
    if (stopReason === "error") {
      return { outcome: "failed", reason: `agent error: ${this.lastAgentError ?? "the agent reported an error"}` };
    }
    return { outcome: "failed", reason: `agent stopped: ${stopReason}` };
  }

  /** Ends the session once; later calls (a crash during a stop, a stop during completion) share it. */
  private end(outcome: Outcome, opts: { cancel?: boolean } = {}): Promise<void> {
    if (!this.ending) {
      const cancelTurn = opts.cancel === true && this.turnRunning();
      clearTimeout(this.graceTimer);
      this.move("ending");
      this.ending = this.runEnd(outcome, cancelTurn).catch((err: unknown) => {
        log(`session ${this.id}: could not record its end: ${errorMessage(err)}`);
      });
    }
    return this.ending;
  }

  private async runEnd(outcome: Outcome, cancelTurn: boolean): Promise<void> {
    const harness = this.harness;
    // Only work that an agent did in task mode is saved: a conversation never pushes, and a harness
    // that never started did nothing worth a branch.
    const save = this.deps.request.mode === "task" && harness !== undefined;
    try {
      if (cancelTurn) await within(harness!.cancel(), HARNESS_WAIT_MS);
      // A harness still starting is stopped where it is: its processes are gone before the end is recorded.
      if (!harness) {
        this.startAborter.abort();
        await within(this.booting, HARNESS_WAIT_MS);
      }
      // Let the turn record how it ended before the session's last events.
      await within(this.turns, HARNESS_WAIT_MS);
      // Closed before saving, so the agent cannot change files while they are committed.
      if (harness) await within(harness.close(), HARNESS_WAIT_MS);
      let saved: SavedWork | undefined;
      let saveError: string | undefined;
      const { workspace, request } = this.deps;
      if (save) {
        try {
          saved = await saveWork({
            cwd: workspace.path,
            branch: workspace.branch,
            repo: workspace.repo,
            pristineConfig: workspace.pristineConfig,
            authorName: request.gitAuthorName,
            authorEmail: request.gitAuthorEmail,
            baseCommit: workspace.baseCommit,
            message: saveCommitMessage(request.taskId, request.title, this.lastAgentText),
          });
        } catch (err) {
          saveError = errorMessage(err);
        }
      }
      if (saved) {
        const { commit, changed, pushed } = saved;
        this.append({ type: "work_saved", branch: workspace.branch, commit, changed, pushed });
      }
      this.append(this.finishedEvent(outcome, save, saved, saveError));
    } finally {
      // Over even if the outbox failed to record it: nothing more runs in this session.
      this.move("finished");
      this.markFinished();
    }
  }

  private finishedEvent(outcome: Outcome, save: boolean, saved: SavedWork | undefined, saveError: string | undefined) {
    const { branch } = this.deps.workspace;
    const pushed = saved?.pushed ? { branch, commit: saved.commit } : {};
    if (outcome.outcome === "failed") {
      return { type: "session_finished", outcome: "failed", reason: outcome.reason, ...pushed } as const;
    }
    if (!save) return { type: "session_finished", outcome: "completed", reason: outcome.reason } as const;
    if (saveError !== undefined) {
      return { type: "session_finished", outcome: "failed", reason: `saving the work failed: ${saveError}` } as const;
    }
    // Nothing changed, nothing pushed: the task completes without a branch.
    if (saved?.changed === false) return { type: "session_finished", outcome: "completed" } as const;
    if (!saved?.pushed) {
      return { type: "session_finished", outcome: "failed", reason: `push failed: ${saved?.pushError}` } as const;
    }
    return { type: "session_finished", outcome: "completed", branch, commit: saved.commit } as const;
  }

  private append(payload: AgentEventPayload): void {
    // A harness may still report something after the end; the session's record stops at the end.
    if (this.state === "finished") return;
    this.deps.append(payload);
  }
}
