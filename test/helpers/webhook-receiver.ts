import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as received (what a signature is checked against). */
  raw: Buffer;
  json: unknown;
  /** The status this receiver answered. */
  answered: number;
  at: number;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  requests: ReceivedRequest[];
  /** The status the next requests get (default 200); a function sees the request's number from 1 and path. */
  answer: (status: number | ((n: number, path: string) => number), headers?: Record<string, string>) => void;
  /** Resolves once `predicate` holds for the requests received, or fails after `timeoutMs`. */
  waitFor: (predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number) => Promise<ReceivedRequest[]>;
  close: () => Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that records every request and answers what the test says. */
export async function startWebhookReceiver(opts: { port?: number } = {}): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  let status: number | ((n: number, path: string) => number) = 200;
  let extraHeaders: Record<string, string> = {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        json = undefined;
      }
      const answered = typeof status === "function" ? status(requests.length + 1, req.url ?? "") : status;
      requests.push({ path: req.url ?? "", headers: req.headers, raw, json, answered, at: Date.now() });
      res.writeHead(answered, { "content-type": "text/plain", ...extraHeaders });
      res.end(answered < 300 ? "ok" : "nope");
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    answer: (s, headers = {}) => {
      status = s;
      extraHeaders = headers;
    },
    waitFor: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(requests)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`The webhook receiver did not get what was expected; got ${requests.length} request(s)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
