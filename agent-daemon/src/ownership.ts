import type http from "node:http";

export interface OwnershipOptions {
  /**
   * How long the daemon waits for a holder before it retires (as soon as nothing is busy). Undefined
   * for a daemon nobody started for it (a joined node): it lives on its own.
   */
  orphanExitMs: number | undefined;
  /** Whether a session is working, starting or ending. */
  busy: () => boolean;
  /** How many recorded events no web app has taken yet. */
  undelivered: () => number;
  /** How long undelivered events keep an orphan that is otherwise done, for a restarted web app to take them. */
  deliveryWaitMs: number;
  onRetire: (reason: string) => void;
  /** A holder says where its web app listens now: a restarted web app may listen elsewhere. */
  onWebUrl: (webUrl: string) => void;
}

// How often an orphan that waits for its events to be taken looks whether they were.
const DELIVERY_CHECK_MS = 1_000;

/**
 * The web apps that hold this daemon. A web app that starts a daemon on its own machine holds it for
 * as long as it runs with a request it leaves open (`POST /owner`), and a restarted web app takes the
 * daemon over the same way. With no holder for `orphanExitMs` the daemon is an orphan: idle, it
 * retires at once; busy, once its sessions are over. It never cuts work short, and never outlives its
 * web app by surprise: what only it holds (events no web app took yet, such as the outcome of a task
 * that ended while the web app restarted) keeps it at most `deliveryWaitMs` longer.
 */
export class Ownership {
  private holders = 0;
  /** `waiting` for a holder, `held`, `orphaned` (retires once nothing is busy), or `stopped` with the daemon. */
  private phase: "waiting" | "held" | "orphaned" | "stopped" = "waiting";
  private orphanTimer: NodeJS.Timeout | undefined;
  /** While an orphan waits for its events to be taken: when it stops waiting. */
  private deliveryDeadline: number | undefined;

  constructor(private readonly opts: OwnershipOptions) {
    // Counted from the start: a web app that died before it took hold leaves no daemon behind.
    this.waitForHolder();
  }

  /** Answers `POST /owner` and keeps the response open; the hold lasts until its connection closes. */
  hold(res: http.ServerResponse, webUrl: string): void {
    this.holders += 1;
    this.clearTimers();
    if (this.phase !== "stopped") this.phase = "held";
    this.opts.onWebUrl(webUrl);
    res.once("close", () => {
      this.holders -= 1;
      if (this.holders === 0 && this.phase === "held") this.waitForHolder();
    });
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    // Sent now: the holder learns it holds the daemon without waiting for a body that never ends.
    res.write("held\n");
  }

  /** Called whenever a session changes state: an orphan retires once nothing is busy. */
  check(): void {
    if (this.phase !== "orphaned" || this.opts.busy()) return;
    const undelivered = this.opts.undelivered();
    if (undelivered === 0) {
      this.retire(`no web app has held this node for ${Math.round((this.opts.orphanExitMs ?? 0) / 1000)} s`);
      return;
    }
    this.deliveryDeadline ??= Date.now() + this.opts.deliveryWaitMs;
    if (Date.now() >= this.deliveryDeadline) {
      this.retire(`no web app came back for the ${undelivered} events it did not take`);
      return;
    }
    // The shipper takes them out in the background (the web app may still answer); look again soon.
    clearTimeout(this.orphanTimer);
    this.orphanTimer = setTimeout(() => this.check(), DELIVERY_CHECK_MS);
    this.orphanTimer.unref();
  }

  /** The daemon is shutting down: nothing more to wait for. */
  stop(): void {
    this.phase = "stopped";
    this.clearTimers();
  }

  private retire(reason: string): void {
    this.stop();
    this.opts.onRetire(reason);
  }

  private clearTimers(): void {
    clearTimeout(this.orphanTimer);
    this.deliveryDeadline = undefined;
  }

  private waitForHolder(): void {
    this.phase = "waiting";
    if (this.opts.orphanExitMs === undefined) return;
    this.orphanTimer = setTimeout(() => {
      this.phase = "orphaned";
      this.check();
    }, this.opts.orphanExitMs);
    // The API server keeps the process alive; this timer alone must not.
    this.orphanTimer.unref();
  }
}
