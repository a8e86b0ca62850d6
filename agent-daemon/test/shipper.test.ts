import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentEvent } from "../src/contract.ts";
import { Outbox } from "../src/outbox.ts";
import { Shipper } from "../src/shipper.ts";
import { newNodeToken } from "./daemon-process.ts";
import { type FakeWeb, startFakeWeb, until } from "./fake-web.ts";
import { makeTempDir } from "./temp-dir.ts";

const token = newNodeToken();

function expectInOrderWithoutGaps(events: AgentEvent[], sessionId: string, count: number): void {
  const seqs = events.filter((event) => event.sessionId === sessionId).map((event) => event.seq);
  expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

describe("event shipper", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let outbox: Outbox;
  let web: FakeWeb | undefined;
  let shipper: Shipper | undefined;

  beforeEach(() => {
    temp = makeTempDir("sam-shipper-");
    outbox = new Outbox(path.join(temp.dir, "outbox.db"));
  });
  afterEach(async () => {
    shipper?.stop();
    await web?.close();
    outbox.close();
    temp.cleanup();
  });

  function startShipper(url: string): Shipper {
    // Short backoff keeps the test quick; the protocol is the same at any pace.
    shipper = new Shipper({
      outbox,
      webUrl: url,
      nodeId: "node-1",
      nodeToken: token,
      initialBackoffMs: 10,
      maxBackoffMs: 100,
    });
    return shipper;
  }

  it("delivers every event in order per session, none missing or repeated, when the first batches are refused", async () => {
    web = await startFakeWeb(token, { refuseFirst: 4 });
    startShipper(web.url);
    const sessions = ["a", "b", "c"];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 50; i++) {
        const sessionId = sessions[i % 3] ?? "";
        outbox.append(sessionId, `task-${sessionId}`, { type: "agent_text", text: `round ${round} event ${i}` });
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await until(() => web?.events.length === 500);
    expect(web.batchesReceived()).toBeGreaterThan(4);
    expect(Math.max(...web.acceptedBatchSizes)).toBeLessThanOrEqual(200);
    for (const sessionId of sessions) {
      expectInOrderWithoutGaps(web.events, sessionId, sessionId === "c" ? 160 : 170);
    }
    expect(web.duplicates()).toBe(0);
    // The last batch is acknowledged when its answer arrives, just after the web app stored it.
    await until(() => outbox.pendingCount() === 0);
  });

  it("sends a burst of appends made together as one batch", async () => {
    web = await startFakeWeb(token);
    startShipper(web.url);
    for (let i = 0; i < 150; i++) outbox.append("s", "t", { type: "agent_text", text: `${i}` });
    await until(() => web?.events.length === 150);
    expect(web.acceptedBatchSizes).toEqual([150]);
  });

  it("keeps events appended while the web app is down and delivers them when it is back", async () => {
    web = await startFakeWeb(token);
    startShipper(web.url);
    outbox.append("s", "t", { type: "agent_text", text: "before the outage" });
    await until(() => web?.events.length === 1);
    web.setDown(true);
    const refusedBefore = web.batchesReceived();
    for (let i = 0; i < 20; i++) outbox.append("s", "t", { type: "agent_text", text: `during ${i}` });
    await until(() => (web?.batchesReceived() ?? 0) >= refusedBefore + 3);
    expect(web.events).toHaveLength(1);
    expect(outbox.pendingCount()).toBe(20);
    web.setDown(false);
    await until(() => web?.events.length === 21);
    expectInOrderWithoutGaps(web.events, "s", 21);
    expect(web.duplicates()).toBe(0);
  });

  it("ships events left by an earlier run once kicked, and flush waits for the acknowledgement", async () => {
    for (let i = 0; i < 5; i++) outbox.append("s", "t", { type: "agent_text", text: `${i}` });
    web = await startFakeWeb(token);
    const flushed = await startShipper(web.url).flush(5_000);
    expect(flushed).toBe(true);
    expectInOrderWithoutGaps(web.events, "s", 5);
  });
});
