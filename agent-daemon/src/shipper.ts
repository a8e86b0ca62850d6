import { type AgentEvent, type EventBatch, WEB_ROUTES } from "./contract.ts";
import { log } from "./log.ts";
import type { Outbox, PendingEvent } from "./outbox.ts";
import { postToWeb, webEndpoint } from "./web-client.ts";

export interface ShipperOptions {
  outbox: Outbox;
  webUrl: string;
  nodeId: string;
  nodeToken: string;
  batchSize?: number;
  /** Payload bytes per batch, past its first event: keeps one request a reasonable size. */
  maxBatchBytes?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
}

/**
 * Sends the outbox's events to the web app. One batch is in flight at a time and is acknowledged in
 * the outbox only after a 2xx, so events go out in order and an event is sent again only if the web
 * app did not take it (it stores each (session, seq) once, so a repeat is harmless). Failures are
 * retried forever with capped, jittered exponential backoff.
 */
export class Shipper {
  private readonly opts: Required<ShipperOptions>;
  private endpoint: string;
  private running = false;
  private stopped = false;
  private failing: string | undefined;
  private readonly abort = new AbortController();
  private wakeSleep: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(options: ShipperOptions) {
    this.opts = {
      batchSize: 200,
      maxBatchBytes: 1_000_000,
      initialBackoffMs: 100,
      maxBackoffMs: 5_000,
      requestTimeoutMs: 10_000,
      ...options,
    };
    this.endpoint = webEndpoint(options.webUrl, WEB_ROUTES.events);
    this.unsubscribe = options.outbox.onAppend(() => this.kick());
  }

  /**
   * Starts shipping unless a run is already going (it will pick up new events itself). The run begins
   * on the next turn of the event loop, so a burst of appends made together leaves as one batch.
   */
  kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    setImmediate(() => void this.run());
  }

  /** Ships to a web app that now listens at `webUrl` (a restarted one took this node over), starting now. */
  setWebUrl(webUrl: string): void {
    this.endpoint = webEndpoint(webUrl, WEB_ROUTES.events);
    this.wakeSleep?.();
    this.kick();
  }

  /** Resolves when every event is acknowledged, or after `timeoutMs`, whichever comes first. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.kick();
    while (this.opts.outbox.pendingCount() > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.abort.abort();
    this.wakeSleep?.();
  }

  private async run(): Promise<void> {
    let backoffMs = this.opts.initialBackoffMs;
    try {
      while (!this.stopped) {
        const batch = this.opts.outbox.unacknowledged(this.opts.batchSize, this.opts.maxBatchBytes);
        if (batch.length === 0) return;
        const failure = await this.send(batch);
        if (this.stopped) return;
        if (failure === undefined) {
          this.opts.outbox.acknowledge(batch.map((event) => event.id));
          backoffMs = this.opts.initialBackoffMs;
          if (this.failing) log("event shipping recovered");
          this.failing = undefined;
          continue;
        }
        // Logged when the failure starts or changes, not on every retry of a long outage.
        if (failure !== this.failing) log(`event shipping failed (${failure}); retrying`);
        this.failing = failure;
        await this.sleep(backoffMs / 2 + Math.random() * (backoffMs / 2));
        backoffMs = Math.min(backoffMs * 2, this.opts.maxBackoffMs);
      }
    } finally {
      this.running = false;
    }
  }

  /** Posts one batch; resolves with why it failed, or undefined when the web app took it. */
  private send(batch: PendingEvent[]): Promise<string | undefined> {
    const body: EventBatch = {
      nodeId: this.opts.nodeId,
      events: batch.map(({ sessionId, taskId, seq, at, event }): AgentEvent => ({ sessionId, taskId, seq, at, event })),
    };
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.requestTimeoutMs)]);
    return postToWeb(this.endpoint, this.opts.nodeToken, body, signal);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}
