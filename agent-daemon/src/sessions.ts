import type { HeartbeatRequest, SessionResponse, StartSession } from "./contract.ts";
import { RequestError } from "./errors.ts";
import type { Outbox } from "./outbox.ts";
import { Session, type StartHarness } from "./session.ts";
import type { Workspaces } from "./workspaces.ts";

// An ended session is remembered this long, so the web app can still read its state and a retried
// message still gets its first answer; then it is forgotten (its events are in the outbox).
const FINISHED_RETENTION_MS = 60 * 60_000;

export interface SessionsDeps {
  outbox: Outbox;
  workspaces: Workspaces;
  startHarness: StartHarness;
  /** Told whenever a session changes state. */
  onChange?: () => void;
}

/** The sessions on this node, by id. */
export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly deps: SessionsDeps) {}

  /**
   * Starts a session in its workspace, or answers with the existing one when the same start is
   * repeated (the web app retries after a timeout); `created` tells which.
   */
  start(request: StartSession): { session: SessionResponse; created: boolean } {
    const existing = this.sessions.get(request.sessionId);
    if (existing) {
      if (existing.taskId !== request.taskId || existing.workspaceId !== request.workspaceId) {
        throw new RequestError(409, "session_exists", `Session ${request.sessionId} already exists for another task`);
      }
      return { session: existing.view(), created: false };
    }
    const workspace = this.deps.workspaces.get(request.workspaceId);
    if (!workspace) {
      throw new RequestError(404, "workspace_not_found", `No workspace ${request.workspaceId} on this node`);
    }
    if (workspace.taskId && workspace.taskId !== request.taskId) {
      throw new RequestError(
        409,
        "workspace_task_mismatch",
        `Workspace ${request.workspaceId} belongs to another task`,
      );
    }
    const busy = this.activeIn(request.workspaceId);
    if (busy) {
      throw new RequestError(409, "workspace_busy", `Workspace ${request.workspaceId} already runs session ${busy.id}`);
    }
    const { outbox } = this.deps;
    const session = new Session({
      request,
      workspace,
      append: (payload) => outbox.append(request.sessionId, request.taskId, payload),
      startHarness: this.deps.startHarness,
      onMove: () => this.deps.onChange?.(),
    });
    this.sessions.set(request.sessionId, session);
    void session.done.then(() => {
      setTimeout(() => {
        if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
      }, FINISHED_RETENTION_MS).unref();
    });
    session.start();
    return { session: session.view(), created: true };
  }

  get(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) throw new RequestError(404, "session_not_found", `No session ${id} on this node`);
    return session;
  }

  /** The session still running in a workspace, if any. */
  activeIn(workspaceId: string): Session | undefined {
    for (const session of this.sessions.values()) {
      if (session.workspaceId === workspaceId && !session.isFinished) return session;
    }
    return undefined;
  }

  /** Whether the session in a workspace is parked (see `Session.isParked`). */
  parkedIn(workspaceId: string): boolean {
    return this.activeIn(workspaceId)?.isParked ?? false;
  }

  activeCount(): number {
    let count = 0;
    for (const session of this.sessions.values()) if (!session.isFinished) count += 1;
    return count;
  }

  /** Whether any session is working, starting or ending (an idle conversation waiting for a message is not). */
  busy(): boolean {
    for (const session of this.sessions.values()) if (session.isBusy) return true;
    return false;
  }

  report(): HeartbeatRequest["sessions"] {
    return [...this.sessions.values()].map((session) => session.view());
  }

  /**
   * Ends every running session at once (no grace: the daemon is going away; task-mode work is
   * saved), and waits for them up to `timeoutMs`.
   */
  async stopAll(reason: string, timeoutMs: number): Promise<void> {
    const running = [...this.sessions.values()].filter((session) => !session.isFinished);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running.map((session) => session.terminate(reason))),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
