import type http from "node:http";

export interface OwnershipOptions {
  /**
   * How long the daemon waits for a holder before it retires (as soon as nothing is busy). Undefined
   * for a daemon nobody started for it (a joined node): it lives on its own.
   */
  orphanExitMs: number | undefined;
  busy: () => boolean;
  onRetire: (reason: string) => void;
  /** A holder says where its web app listens now: a restarted web app may listen elsewhere. */
  onWebUrl: (webUrl: string) => void;
}

/**
 * The web apps that hold this daemon. A web app that starts a daemon on its own machine holds it for
 * as long as it runs with a request it leaves open (`POST /owner`), and a restarted web app takes the
 * daemon over the same way. With no holder for `orphanExitMs` the daemon retires as soon as no
 * session is busy: it never outlives its web app by surprise, and never cuts work short.
 */
export class Ownership {
  private holders = 0;
  /** `waiting` for a holder, `held`, `orphaned` (retires once nothing is busy), or `stopped` with the daemon. */
  private phase: "waiting" | "held" | "orphaned" | "stopped" = "waiting";
  private orphanTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: OwnershipOptions) {
    // Counted from the start: a web app that died before it took hold leaves no daemon behind.
    this.waitForHolder();
  }

  /** Answers `POST /owner` and keeps the response open; the hold lasts until its connection closes. */
  hold(res: http.ServerResponse, webUrl: string): void {
    this.holders += 1;
    clearTimeout(this.orphanTimer);
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

  /** Called whenever a session changes state: an orphaned daemon retires once nothing is busy. */
  check(): void {
    if (this.phase !== "orphaned" || this.opts.busy()) return;
    this.phase = "stopped";
    this.opts.onRetire(`no web app has held this node for ${Math.round((this.opts.orphanExitMs ?? 0) / 1000)} s`);
  }

  /** The daemon is shutting down: nothing more to wait for. */
  stop(): void {
    this.phase = "stopped";
    clearTimeout(this.orphanTimer);
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
