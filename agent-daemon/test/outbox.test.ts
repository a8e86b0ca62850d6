import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Outbox } from "../src/outbox.ts";
import { makeTempDir } from "./temp-dir.ts";

const SESSIONS = ["s1", "s2", "s3", "s4", "s5"];

describe("event outbox", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let file: string;
  const open: Outbox[] = [];
  beforeEach(() => {
    temp = makeTempDir("sam-outbox-");
    file = path.join(temp.dir, "outbox.db");
  });
  const openOutbox = () => {
    const outbox = new Outbox(file);
    open.push(outbox);
    return outbox;
  };
  afterEach(() => {
    for (const outbox of open.splice(0)) outbox.close();
    temp.cleanup();
  });

  it("numbers 1,000 concurrent appends across 5 sessions 1..200 per session, with no gap and no duplicate", async () => {
    // Two connections to one file, interleaved: numbering comes from the database, not a counter in memory.
    const outboxes = [openOutbox(), openOutbox()];
    const appended = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        await Promise.resolve();
        const sessionId = SESSIONS[i % SESSIONS.length] ?? "";
        return outboxes[i % 2]?.append(sessionId, `task-${sessionId}`, { type: "agent_text", text: `event ${i}` });
      }),
    );
    for (const sessionId of SESSIONS) {
      const seqs = appended
        .filter((event) => event?.sessionId === sessionId)
        .map((event) => event?.seq)
        .sort((a, b) => (a ?? 0) - (b ?? 0));
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    }
    expect(outboxes[0]?.pendingCount()).toBe(1000);
  });

  it("continues each session's numbering in a new instance on the same file and keeps unacknowledged events", () => {
    const first = openOutbox();
    for (let i = 0; i < 3; i++) first.append("s1", "t1", { type: "agent_text", text: `before ${i}` });
    first.acknowledge(first.unacknowledged(1).map((event) => event.id));
    first.close();
    open.splice(0);

    const reopened = openOutbox();
    expect(reopened.append("s1", "t1", { type: "agent_text", text: "after" }).seq).toBe(4);
    expect(reopened.append("s2", "t2", { type: "agent_text", text: "other" }).seq).toBe(1);
    const pending = reopened.unacknowledged(100);
    expect(pending.map((event) => [event.sessionId, event.seq])).toEqual([
      ["s1", 2],
      ["s1", 3],
      ["s1", 4],
      ["s2", 1],
    ]);
    expect(pending[0]?.event).toEqual({ type: "agent_text", text: "before 1" });
  });

  it("never reuses a sequence number after acknowledged events are pruned", () => {
    const outbox = openOutbox();
    outbox.append("s1", "t1", { type: "agent_text", text: "one" });
    outbox.append("s1", "t1", { type: "agent_text", text: "two" });
    outbox.acknowledge(outbox.unacknowledged(10).map((event) => event.id));
    expect(outbox.prune(-1)).toBe(2);
    expect(outbox.append("s1", "t1", { type: "agent_text", text: "three" }).seq).toBe(3);
  });

  it("limits a batch by count and by payload size, always taking at least one event", () => {
    const outbox = openOutbox();
    for (let i = 0; i < 5; i++) outbox.append("s1", "t1", { type: "agent_text", text: "x".repeat(1000) });
    expect(outbox.unacknowledged(3)).toHaveLength(3);
    expect(outbox.unacknowledged(10, 2500)).toHaveLength(2);
    expect(outbox.unacknowledged(10, 10)).toHaveLength(1);
  });

  it("prunes only acknowledged events", () => {
    const outbox = openOutbox();
    outbox.append("s1", "t1", { type: "agent_text", text: "acked" });
    outbox.append("s1", "t1", { type: "agent_text", text: "pending" });
    outbox.acknowledge(outbox.unacknowledged(1).map((event) => event.id));
    expect(outbox.prune(60_000)).toBe(0);
    expect(outbox.prune(-1)).toBe(1);
    expect(outbox.unacknowledged(10).map((event) => event.seq)).toEqual([2]);
  });
});
