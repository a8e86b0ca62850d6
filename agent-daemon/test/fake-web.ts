import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AgentEvent,
  eventBatchSchema,
  type HeartbeatRequest,
  heartbeatRequestSchema,
  WEB_ROUTES,
} from "../src/contract.ts";

export interface FakeWeb {
  url: string;
  /** Stored events, each (session, seq) once, in the order they arrived. */
  events: AgentEvent[];
  heartbeats: HeartbeatRequest[];
  /** Every batch request received, refused ones included. */
  batchesReceived: () => number;
  /** The sizes of the batches that were accepted. */
  acceptedBatchSizes: number[];
  /** Events received again after they had been stored. */
  duplicates: () => number;
  /** While down, every request gets a 503. */
  setDown: (down: boolean) => void;
  /** From now on heartbeats get a 409, as the web app answers a node it declared lost. */
  declareLost: () => void;
  eventsOf: (sessionId: string) => AgentEvent[];
  /** Resolves once an event matching `predicate` has been stored. */
  waitFor: (predicate: (event: AgentEvent) => boolean, timeoutMs?: number) => Promise<AgentEvent>;
  close: () => Promise<void>;
}

/** Resolves once `condition()` holds, checking every few milliseconds. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The web app's side of the daemon protocol, as small as possible: it checks the node token and
 * the contract's schemas, stores each (session, seq) once like the real web app, and can refuse
 * the first `refuseFirst` batches or go down on demand.
 */
export async function startFakeWeb(nodeToken: string, opts: { refuseFirst?: number } = {}): Promise<FakeWeb> {
  const events: AgentEvent[] = [];
  const seen = new Set<string>();
  const heartbeats: HeartbeatRequest[] = [];
  let batches = 0;
  let duplicates = 0;
  const acceptedBatchSizes: number[] = [];
  let down = false;
  let lost = false;
  let waiters: (() => void)[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${nodeToken}`) return reply(401, { error: "unauthenticated" });
    const body = JSON.parse(Buffer.concat(chunks).toString() || "null") as unknown;
    if (req.url === WEB_ROUTES.events) {
      batches += 1;
      if (down || batches <= (opts.refuseFirst ?? 0)) return reply(503, { error: "unavailable" });
      const batch = eventBatchSchema.parse(body);
      acceptedBatchSizes.push(batch.events.length);
      let stored = 0;
      for (const event of batch.events) {
        const key = `${event.sessionId}:${event.seq}`;
        if (seen.has(key)) {
          duplicates += 1;
          continue;
        }
        seen.add(key);
        events.push(event);
        stored += 1;
      }
      const wake = waiters;
      waiters = [];
      for (const w of wake) w();
      return reply(200, { stored });
    }
    if (req.url === WEB_ROUTES.heartbeat) {
      if (down) return reply(503, { error: "unavailable" });
      if (lost) return reply(409, { error: "conflict" });
      heartbeats.push(heartbeatRequestSchema.parse(body));
      return reply(200, { ok: true });
    }
    return reply(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    heartbeats,
    batchesReceived: () => batches,
    acceptedBatchSizes,
    duplicates: () => duplicates,
    setDown: (value) => {
      down = value;
    },
    declareLost: () => {
      lost = true;
    },
    eventsOf: (sessionId) => events.filter((event) => event.sessionId === sessionId),
    waitFor: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out waiting for an event")), timeoutMs);
        const check = () => {
          const found = events.find(predicate);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else waiters.push(check);
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
