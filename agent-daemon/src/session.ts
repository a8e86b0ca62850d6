import type {
  AgentEventPayload,
  InjectMessageRequest,
  SessionResponse,
  StartSession,
  StopSessionRequest,
} from "./contract.ts";
import { RequestError } from "./errors.ts";
import { git } from "./git.ts";
import { type SavedWork, saveWork } from "./git-save.ts";
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
 * once, always the same way: harness closed, work committed and pushed, `session_finished`.
 */
export class Session {
  private phase: "starting" | "working" | "idle" = "starting";
  private harness: HarnessSession | undefined;
  /** The running chain of turns; settles when the agent goes idle or the session ends. */
  private turns: Promise<void> = Promise.resolve();
  private readonly queue: Message[] = [];
  /** Answers already given, by message id: a repeated delivery gets the same answer, not a second turn. */
  private readonly answered = new Map<string, InjectResult>();
  private idleWaiters: (() => void)[] = [];
  private lastAgentError: string | undefined;
  /** The reason of the stop in progress, if one is. */
  private stopReason: string | undefined;
  private closing = false;
  private ending: Promise<void> | undefined;
  private endStarted!: () => void;
  private readonly endStartedSignal = new Promise<void>((resolve) => {
    this.endStarted = resolve;
  });
  private finished = false;

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
    return this.finished;
  }

  /** Settles once `session_finished` is in the outbox. */
  get done(): Promise<void> {
    return this.endStartedSignal.then(() => this.ending);
  }

  view(): SessionResponse {
    const state = this.finished ? "finished" : this.stopReason !== undefined ? "stopping" : this.phase;
    return { sessionId: this.id, taskId: this.taskId, state };
  }

  /** Records the start and the task's prompt, then boots the harness and runs the first turn. */
  start(): void {
    const { request } = this.deps;
    this.append({ type: "session_started", harness: request.harness, model: request.model });
    this.append({ type: "user_message", text: request.prompt, source: "task" });
    void this.boot();
  }

  inject(message: InjectMessageRequest): InjectResult {
    const earlier = this.answered.get(message.messageId);
    if (earlier) return earlier;
    if (this.finished || this.ending) {
      throw new RequestError(409, "session_finished", `Session ${this.id} has ended and takes no more messages`);
    }
    const result = this.deliver(message);
    this.answered.set(message.messageId, result);
    return result;
  }

  /** Cancels the turn in progress, if any; queued messages still follow. */
  async cancel(): Promise<void> {
    if (this.finished || this.ending) {
      throw new RequestError(409, "session_finished", `Session ${this.id} has ended`);
    }
    if (this.phase === "working" && this.harness) await within(this.harness.cancel(), HARNESS_WAIT_MS);
  }

  /**
   * The stop protocol, run in the background: the warning (if any) reaches the agent now or after
   * its current turn; the agent gets `graceMs` to wrap up (if it finishes by itself, its own outcome
   * stands); then the turn is cancelled, the harness closed, the work saved, and the session fails
   * with `reason`. An `end` (a user ending their conversation) saves nothing and completes it.
   * A stop of a stopping or ended session changes nothing.
   */
  stop(request: StopSessionRequest): void {
    if (this.finished || this.ending || this.stopReason !== undefined) return;
    this.stopReason = request.reason;
    if (request.warning) this.deliver({ text: request.warning, source: "system" });
    void this.runStop(request);
  }

  /** Ends the session now, without a grace period (the daemon is shutting down); a stop in progress keeps its reason. */
  terminate(reason: string): Promise<void> {
    return this.end({ outcome: "failed", reason: this.stopReason ?? reason }, { cancel: true });
  }

  private async runStop(request: StopSessionRequest): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, request.graceMs);
      }),
      this.endStartedSignal,
      // An idle agent with nothing queued will not do anything more with the rest of the grace.
      this.whenIdle(),
    ]);
    clearTimeout(timer);
    if (request.end) await this.end({ outcome: "completed", reason: request.reason }, { cancel: true, save: false });
    else await this.end({ outcome: "failed", reason: request.reason }, { cancel: true });
  }

  private async boot(): Promise<void> {
    const { request, workspace } = this.deps;
    // The agent commits too (task mode says so); it needs an identity on nodes without a global one.
    // One after the other: each `git config` write locks the config file.
    const identity = git(["config", "user.name", request.gitAuthorName], { cwd: workspace.path })
      .then(() => git(["config", "user.email", request.gitAuthorEmail], { cwd: workspace.path }))
      .catch((err: unknown) => log(`session ${this.id}: could not set the git identity: ${errorMessage(err)}`));
    let harness: HarnessSession;
    try {
      harness = await this.deps.startHarness({
        kind: request.harness,
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
      });
    } catch (err) {
      await identity;
      const reason = errorMessage(err);
      // Nothing ran, so there is no work to save (and no empty branch to push).
      void this.end(
        { outcome: "failed", reason: reason.startsWith(START_FAILED) ? reason : `${START_FAILED}: ${reason}` },
        { save: false },
      );
      return;
    }
    await identity;
    if (this.ending) {
      // Stopped while the harness was starting.
      await within(harness.close(), HARNESS_WAIT_MS);
      return;
    }
    this.harness = harness;
    this.runTurns(request.prompt);
  }

  private onHarnessEvent(event: HarnessEvent): void {
    if (event.type === "agent_error") this.lastAgentError = event.message;
    this.append(event);
  }

  private onCrash(reason: string): void {
    if (this.closing) return;
    void this.end({ outcome: "failed", reason: `harness crashed: ${reason}` });
  }

  private deliver(message: Message): InjectResult {
    if (this.phase === "idle") {
      this.appendUserMessage(message);
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
    this.phase = "working";
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
      if (this.ending) return;
      const next = this.takeQueued();
      if (next !== undefined) {
        text = next;
        continue;
      }
      // A cancelled turn waits for the next message in both modes; a conversation always does.
      if (stopReason === "cancelled" || this.deps.request.mode === "conversation") {
        this.setIdle();
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

  private setIdle(): void {
    this.phase = "idle";
    const waiters = this.idleWaiters.splice(0);
    for (const wake of waiters) wake();
  }

  private whenIdle(): Promise<void> {
    if (this.phase === "idle") return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ends the session once; later calls (a crash during a stop, a stop during completion) share it. */
  private end(outcome: Outcome, opts: { cancel?: boolean; save?: boolean } = {}): Promise<void> {
    if (!this.ending) {
      this.ending = this.runEnd(outcome, opts).catch((err: unknown) => {
        log(`session ${this.id}: could not record its end: ${errorMessage(err)}`);
      });
      this.endStarted();
    }
    return this.ending;
  }

  private async runEnd(outcome: Outcome, { cancel = false, save = true }: { cancel?: boolean; save?: boolean }) {
    const harness = this.harness;
    if (cancel && harness && this.phase === "working") await within(harness.cancel(), HARNESS_WAIT_MS);
    // Let the turn record how it ended before the session's last events.
    await within(this.turns, HARNESS_WAIT_MS);
    this.closing = true;
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
          authorName: request.gitAuthorName,
          authorEmail: request.gitAuthorEmail,
        });
      } catch (err) {
        saveError = errorMessage(err);
      }
    }
    try {
      if (saved)
        this.append({ type: "work_saved", branch: workspace.branch, commit: saved.commit, pushed: saved.pushed });
      this.append(this.finishedEvent(outcome, save, saved, saveError));
    } finally {
      // Over even if the outbox failed to record it: nothing more runs in this session.
      this.finished = true;
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
    if (!saved?.pushed) {
      return { type: "session_finished", outcome: "failed", reason: `push failed: ${saved?.pushError}` } as const;
    }
    return { type: "session_finished", outcome: "completed", branch, commit: saved.commit } as const;
  }

  private append(payload: AgentEventPayload): void {
    // A harness may still report something after the end; the session's record stops at the end.
    if (this.finished) return;
    this.deps.append(payload);
  }
}
