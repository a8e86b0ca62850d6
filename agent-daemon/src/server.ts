import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { DAEMON_ROUTES, type DaemonConfig, type DaemonError, type HealthResponse } from "./contract.ts";

const VERSION = "0.1.0";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison of the presented bearer token with the node token. */
function authorized(req: http.IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer (\S+)$/.exec(header);
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
}

function send(res: http.ServerResponse, status: number, body: HealthResponse | DaemonError): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export interface RunningDaemon {
  url: string;
  close: () => Promise<void>;
}

/** Starts the daemon's HTTP API; every request must carry the node's token. */
export async function startDaemonServer(config: DaemonConfig): Promise<RunningDaemon> {
  const expected = digest(config.nodeToken);
  const server = http.createServer((req, res) => {
    if (!authorized(req, expected)) {
      send(res, 401, { error: { code: "unauthenticated", message: "A valid node token is required" } });
      return;
    }
    const url = new URL(req.url ?? "/", "http://daemon");
    if (req.method === "GET" && url.pathname === DAEMON_ROUTES.health) {
      send(res, 200, {
        status: "ok",
        nodeId: config.nodeId,
        version: VERSION,
        workspaces: 0,
        sessions: 0,
        capacity: config.capacity,
        outboxPending: 0,
      });
      return;
    }
    send(res, 404, { error: { code: "not_found", message: `No route ${req.method} ${url.pathname}` } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
