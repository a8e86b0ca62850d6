import http from "node:http";
import { DAEMON_ROUTES, type OwnerRequest } from "@sam/agent-daemon/contract";
import type { HttpDaemonTarget } from "./daemon-client";

// Shared by every copy of this module in the process (Next bundles route handlers separately).
const globalForHolds = globalThis as unknown as { __samDaemonHolds?: Map<string, http.ClientRequest> };
globalForHolds.__samDaemonHolds ??= new Map();
const holds = globalForHolds.__samDaemonHolds;

/**
 * Holds a node's daemon for as long as this process runs: a `POST /owner` request left open. The
 * daemon knows its web app is alive (without a holder it retires once idle) and ships to `webUrl`;
 * this process learns the moment the daemon dies, because the request ends, and `onGone` runs.
 * Resolves once the daemon took the hold; rejects if it refused or did not answer in `timeoutMs`.
 */
export function holdDaemon(
  nodeId: string,
  target: HttpDaemonTarget,
  webUrl: string,
  onGone: () => void,
  timeoutMs = 10_000,
): Promise<void> {
  releaseHold(nodeId);
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ webUrl } satisfies OwnerRequest);
    const req = http.request(`${target.url}${DAEMON_ROUTES.owner}`, {
      method: "POST",
      // Its own connection, for as long as the hold lasts.
      agent: false,
      headers: {
        authorization: `Bearer ${target.token}`,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      },
    });
    let held = false;
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const ended = (err?: Error) => {
      clearTimeout(timer);
      // Let go on purpose (`releaseHold`), or already reported.
      if (holds.get(nodeId) !== req) return;
      holds.delete(nodeId);
      if (held) onGone();
      else reject(err ?? new Error("the daemon closed the connection"));
    };
    req.on("response", (res) => {
      res.resume();
      if (res.statusCode !== 200) {
        ended(new Error(`the daemon answered HTTP ${res.statusCode}`));
        req.destroy();
        return;
      }
      clearTimeout(timer);
      held = true;
      resolve();
      res.on("close", () => ended());
    });
    req.on("error", (err) => ended(err));
    // A hold never keeps this process alive by itself.
    req.on("socket", (socket) => socket.unref());
    holds.set(nodeId, req);
    req.end(body);
  });
}

/** Lets go of a node's daemon (it is being stopped on purpose): its end is not news. */
export function releaseHold(nodeId: string): void {
  const req = holds.get(nodeId);
  holds.delete(nodeId);
  req?.destroy();
}
