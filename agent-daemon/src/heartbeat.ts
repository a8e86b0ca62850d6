import { type HeartbeatRequest, WEB_ROUTES } from "./contract.ts";
import { log } from "./log.ts";
import { postToWeb, webEndpoint } from "./web-client.ts";

export interface HeartbeatOptions {
  webUrl: string;
  nodeToken: string;
  intervalMs: number;
  /** What to report, read fresh at every beat. */
  report: () => HeartbeatRequest;
  /**
   * Called once when this node should stop: the web app refused it (declared lost, token revoked)
   * or has not answered for `orphanAfterMs` while nothing ran here.
   */
  onRetire: (reason: string) => void;
  orphanAfterMs: number;
  /** Whether any session is still working (an orphaned node with live work keeps trying). */
  busy: () => boolean;
}

/** How long a beat may take to be answered: far below the web app's node timeout (60 s by default). */
const BEAT_TIMEOUT_MS = 15_000;

/** The web app's answers that mean it will never take this node back. */
const REFUSED = new Set(["HTTP 401", "HTTP 409"]);

/**
 * Tells the web app this node is alive, what it runs and how full it is: once right away, then every
 * `intervalMs`. A failed beat is logged and simply tried again at the next one; the web app declares
 * the node lost only after many missed beats.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing: string | undefined;
  private failingSince: number | undefined;
  private readonly abort = new AbortController();
  private endpoint: string;

  constructor(private readonly opts: HeartbeatOptions) {
    this.endpoint = webEndpoint(opts.webUrl, WEB_ROUTES.heartbeat);
  }

  start(): void {
    void this.beat();
  }

  /** Beats to a web app that now listens at `webUrl` (a restarted one took this node over). */
  setWebUrl(webUrl: string): void {
    this.endpoint = webEndpoint(webUrl, WEB_ROUTES.heartbeat);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
  }

  private async beat(): Promise<void> {
    const failure = await this.send();
    if (this.stopped) return;
    if (failure !== undefined && failure !== this.failing) log(`heartbeat failed (${failure}); retrying`);
    if (failure === undefined && this.failing !== undefined) log("heartbeat recovered");
    this.failing = failure;
    this.failingSince = failure === undefined ? undefined : (this.failingSince ?? Date.now());
    if (failure !== undefined && REFUSED.has(failure)) {
      this.stop();
      this.opts.onRetire(`the web app refused this node (${failure})`);
      return;
    }
    if (
      this.failingSince !== undefined &&
      Date.now() - this.failingSince > this.opts.orphanAfterMs &&
      !this.opts.busy()
    ) {
      this.stop();
      this.opts.onRetire(`no web app answered for ${Math.round(this.opts.orphanAfterMs / 1000)} s`);
      return;
    }
    this.timer = setTimeout(() => void this.beat(), this.opts.intervalMs);
  }

  private send(): Promise<string | undefined> {
    // A busy web app may answer a beat slower than the interval: cutting it off then would lose every
    // beat until the node is declared lost. The next beat simply waits for this one.
    const signal = AbortSignal.any([
      this.abort.signal,
      AbortSignal.timeout(Math.max(this.opts.intervalMs, BEAT_TIMEOUT_MS)),
    ]);
    return postToWeb(this.endpoint, this.opts.nodeToken, this.opts.report(), signal);
  }
}
