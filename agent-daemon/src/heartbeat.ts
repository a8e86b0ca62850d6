import { type HeartbeatRequest, WEB_ROUTES } from "./contract.ts";
import { log } from "./log.ts";
import { postToWeb, webEndpoint } from "./web-client.ts";

export interface HeartbeatOptions {
  webUrl: string;
  nodeToken: string;
  intervalMs: number;
  /** What to report, read fresh at every beat. */
  report: () => HeartbeatRequest;
}

/**
 * Tells the web app this node is alive, what it runs and how full it is: once right away, then every
 * `intervalMs`. A failed beat is logged and simply tried again at the next one; the web app declares
 * the node lost only after many missed beats.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing: string | undefined;
  private readonly abort = new AbortController();
  private readonly endpoint: string;

  constructor(private readonly opts: HeartbeatOptions) {
    this.endpoint = webEndpoint(opts.webUrl, WEB_ROUTES.heartbeat);
  }

  start(): void {
    void this.beat();
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
    this.timer = setTimeout(() => void this.beat(), this.opts.intervalMs);
  }

  private send(): Promise<string | undefined> {
    // A beat never outlives the interval: the next one carries fresher news.
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(Math.max(this.opts.intervalMs, 1_000))]);
    return postToWeb(this.endpoint, this.opts.nodeToken, this.opts.report(), signal);
  }
}
