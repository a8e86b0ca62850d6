import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Heartbeat } from "../src/heartbeat.ts";
import { until } from "./fake-web.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("heartbeats", () => {
  it("a web app that answers each beat slower than the interval still gets every beat, and the node is not orphaned", async () => {
    let answered = 0;
    // A loaded web app: each beat is answered 1.5 s after it arrives.
    const web = http.createServer((req, res) => {
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
        answered++;
      }, 1_500);
    });
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => web.close(resolve)));
    cleanups.push(() => web.closeAllConnections());
    const retired: string[] = [];
    const heartbeat = new Heartbeat({
      webUrl: `http://127.0.0.1:${(web.address() as AddressInfo).port}`,
      nodeToken: "t".repeat(40),
      intervalMs: 200,
      report: () => ({ nodeId: "node-slow-web", url: "http://127.0.0.1:1", capacity: 1, workspaces: 0, sessions: [] }),
      onRetire: (reason) => retired.push(reason),
      orphanAfterMs: 1_000,
      busy: () => false,
    });
    cleanups.push(() => heartbeat.stop());
    heartbeat.start();
    await until(() => answered >= 3 || retired.length > 0, 20_000);
    expect(retired).toEqual([]);
    expect(answered).toBeGreaterThanOrEqual(3);
  });
});
