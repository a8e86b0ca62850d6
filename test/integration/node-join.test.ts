import { type ChannelLine, DAEMON_ROUTES } from "@sam/agent-daemon/contract";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { nodeCommands, nodes, tokens } from "@/db/schema";
import { SamError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { openChannel, recordCommandResult, sendNodeCommand } from "@/lib/nodes/channel";
import { daemonClient } from "@/lib/nodes/daemon-client";
import { joinNode, mintJoinToken } from "@/lib/nodes/join";
import { authenticateNodeToken } from "@/lib/nodes/node-tokens";
import { makeTestDb } from "../helpers/db";

const WEB_URL = "http://10.64.0.1:3000";
const join = (db: Db, token: string, more: { labels?: string[]; name?: string } = {}) =>
  joinNode(db, { token, capacity: 2, labels: more.labels ?? [], version: "0.1.0", name: more.name }, WEB_URL, 500);

/** Reads a channel's lines as they come. */
function reader(stream: ReadableStream<Uint8Array>) {
  const it = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return {
    async next(): Promise<ChannelLine> {
      for (;;) {
        const newline = buffered.indexOf("\n");
        if (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          return JSON.parse(line) as ChannelLine;
        }
        const { value, done } = await it.read();
        if (done) throw new Error("the channel ended");
        buffered += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => it.cancel(),
  };
}

describe("joining a node and its command channel (real libSQL)", () => {
  let db: Db;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ db, cleanup } = await makeTestDb());
  });
  afterAll(() => cleanup());

  it("a VM's token makes its waiting node ready, but a node given up meanwhile stays gone and gets no credential", async () => {
    const waitingId = newId();
    const goneId = newId();
    await db.insert(nodes).values([
      { id: waitingId, name: "vm-1", provider: "hetzner", status: "provisioning" },
      { id: goneId, name: "vm-2", provider: "hetzner", status: "lost" },
    ]);
    const waiting = await mintJoinToken(db, { nodeId: waitingId, labels: ["cloud"] });
    const gone = await mintJoinToken(db, { nodeId: goneId });

    const joined = await join(db, waiting.token, { name: "vm-1" });
    expect(joined.nodeId).toBe(waitingId);
    expect(await db.query.nodes.findFirst({ where: eq(nodes.id, waitingId) })).toMatchObject({
      provider: "hetzner",
      status: "ready",
      labels: JSON.stringify(["cloud"]),
    });

    await expect(join(db, gone.token)).rejects.toThrow(/is gone/);
    expect(await db.query.nodes.findFirst({ where: eq(nodes.id, goneId) })).toMatchObject({ status: "lost" });
    expect(await db.select().from(tokens).where(eq(tokens.nodeId, goneId))).toEqual([]);
  });

  it("a join token makes one joined node with the token's and the asked labels, and a hashed credential that authenticates it", async () => {
    const { token } = await mintJoinToken(db, { labels: ["gpu"] });
    const joined = await join(db, token, { labels: ["eu", "gpu"], name: "build box" });
    expect(joined).toMatchObject({ name: "build box", labels: ["eu", "gpu"], heartbeatMs: 500 });
    const node = await db.query.nodes.findFirst({ where: eq(nodes.id, joined.nodeId) });
    expect(node).toMatchObject({
      provider: "joined",
      status: "ready",
      capacity: 2,
      labels: JSON.stringify(["eu", "gpu"]),
      webUrl: WEB_URL,
      version: "0.1.0",
    });
    const stored = await db.select().from(tokens).where(eq(tokens.nodeId, joined.nodeId));
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(joined.credential);
    expect((await authenticateNodeToken(db, `Bearer ${joined.credential}`)).id).toBe(joined.nodeId);
  });

  it("a used, an expired and an unknown join token are refused as unauthenticated, each saying which", async () => {
    const { token } = await mintJoinToken(db, {});
    await join(db, token);
    await expect(join(db, token)).rejects.toMatchObject({ code: "unauthenticated", message: /already used/ });

    const expiring = await mintJoinToken(db, { ttlMinutes: 1 });
    await db.run(sql`UPDATE node_join_tokens SET expires_at = ${Date.now() - 1} WHERE used_at IS NULL`);
    await expect(join(db, expiring.token)).rejects.toMatchObject({ code: "unauthenticated", message: /has expired/ });
    await expect(join(db, `samj_${"x".repeat(43)}`)).rejects.toMatchObject({
      code: "unauthenticated",
      message: /not valid/,
    });
  });

  it("ten machines racing with one join token make one node", async () => {
    const { token } = await mintJoinToken(db, {});
    const before = (await db.select().from(nodes)).length;
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => join(db, token)));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes) if (o.status === "rejected") expect(SamError.is(o.reason)).toBe(true);
    expect((await db.select().from(nodes)).length).toBe(before + 1);
  });

  it("a bad time to live or label is refused naming the field", async () => {
    await expect(mintJoinToken(db, { ttlMinutes: 0 })).rejects.toMatchObject({ message: /ttlMinutes/ });
    await expect(mintJoinToken(db, { labels: ["Not A Label"] })).rejects.toMatchObject({ message: /labels\.0/ });
  });

  it("a command reaches the open channel at once, is sent again on the next connection when the first dropped before its answer, and the caller gets the node's answer", async () => {
    const { token } = await mintJoinToken(db, {});
    const { nodeId } = await join(db, token);
    const hello = { nodeId, version: "0.1.0", capacity: 2 };
    const first = new AbortController();
    const one = reader(openChannel(db, nodeId, hello, first.signal, { pingMs: 60_000 }));
    await expect
      .poll(async () => (await db.query.nodes.findFirst({ where: eq(nodes.id, nodeId) }))?.channelOpen)
      .toBe(true);

    const answer = daemonClient.cancel({ db, nodeId }, "session-1");
    const line = await one.next();
    expect(line).toMatchObject({ type: "command", method: "POST", route: DAEMON_ROUTES.sessionCancel("session-1") });
    // The connection drops before the node answers.
    first.abort();
    await one.cancel();

    const two = reader(openChannel(db, nodeId, hello, new AbortController().signal, { pingMs: 60_000 }));
    const again = await two.next();
    expect(again).toEqual(line);
    if (again.type !== "command") throw new Error("not a command");
    expect(await recordCommandResult(db, nodeId, again.id, { status: 200, body: { cancelled: true } })).toBe(true);
    // The first answer stands.
    expect(await recordCommandResult(db, nodeId, again.id, { status: 500 })).toBe(false);
    await expect(answer).resolves.toEqual({ cancelled: true });
    await two.cancel();
  });

  it("a channel ends after its time and the node's channel shows closed; a ping renews its last sign of life", async () => {
    const { token } = await mintJoinToken(db, {});
    const { nodeId } = await join(db, token);
    const channel = reader(
      openChannel(db, nodeId, { nodeId, version: "0.2.0", capacity: 3 }, new AbortController().signal, {
        maxMs: 400,
        pingMs: 100,
      }),
    );
    const row = () => db.query.nodes.findFirst({ where: eq(nodes.id, nodeId) });
    expect(await channel.next()).toEqual({ type: "ping" });
    await expect.poll(async () => (await row())?.channelOpen).toBe(true);
    const connected = (await row())?.channelConnectedAt?.getTime() ?? 0;
    expect(await row()).toMatchObject({ version: "0.2.0", capacity: 3 });
    await expect.poll(async () => (await row())?.channelConnectedAt?.getTime() ?? 0).toBeGreaterThan(connected);
    await expect(
      (async () => {
        for (;;) await channel.next();
      })(),
    ).rejects.toThrow("the channel ended");
    await expect.poll(async () => (await row())?.channelOpen).toBe(false);
  });

  it("a call to a node whose channel stays closed fails as unavailable after a short grace, and the command is never sent later", async () => {
    const { token } = await mintJoinToken(db, {});
    const { nodeId } = await join(db, token);
    await expect(daemonClient.finish({ db, nodeId }, "session-away")).rejects.toMatchObject({
      code: "unavailable",
      message: /not connected/,
    });
    const channel = reader(
      openChannel(db, nodeId, { nodeId, version: "0.1.0", capacity: 2 }, new AbortController().signal, {
        pingMs: 60_000,
      }),
    );
    const later = daemonClient.cancel({ db, nodeId }, "session-here");
    const first = await channel.next();
    expect(first).toMatchObject({ type: "command", route: DAEMON_ROUTES.sessionCancel("session-here") });
    if (first.type === "command") await recordCommandResult(db, nodeId, first.id, { status: 200, body: {} });
    await later;
    await channel.cancel();
  });

  it("a command written by another instance reaches the channel by its poll; the daemon's refusal maps to the same error as over HTTP; a row that is no command is refused, not sent; no answer in time is a timeout", async () => {
    const { token } = await mintJoinToken(db, {});
    const { nodeId } = await join(db, token);
    const channel = reader(
      openChannel(db, nodeId, { nodeId, version: "0.1.0", capacity: 2 }, new AbortController().signal, {
        pingMs: 60_000,
      }),
    );
    // Written as another web instance would: a row, no in-process event.
    const id = newId();
    await db.insert(nodeCommands).values({
      id,
      nodeId,
      method: "GET",
      route: DAEMON_ROUTES.health,
      expiresAt: new Date(Date.now() + 10_000),
    });
    expect(await channel.next()).toMatchObject({ type: "command", id, route: DAEMON_ROUTES.health });

    const refused = daemonClient.finish({ db, nodeId }, "session-2");
    const line = await channel.next();
    if (line.type !== "command") throw new Error("not a command");
    await recordCommandResult(db, nodeId, line.id, {
      status: 409,
      body: { error: { code: "session_busy", message: "The session is in a turn" } },
    });
    await expect(refused).rejects.toMatchObject({
      code: "conflict",
      details: { status: 409, daemonCode: "session_busy", daemonMessage: "The session is in a turn" },
    });

    // A row that is no command (no route a daemon serves) is answered with a refusal, never sent;
    // the channel goes on.
    const bad = newId();
    await db.insert(nodeCommands).values({
      id: bad,
      nodeId,
      method: "GET",
      route: "health",
      expiresAt: new Date(Date.now() + 10_000),
    });
    const next = daemonClient.cancel({ db, nodeId }, "session-3");
    const sent = await channel.next();
    expect(sent).toMatchObject({ type: "command", route: DAEMON_ROUTES.sessionCancel("session-3") });
    await expect
      .poll(() => db.query.nodeCommands.findFirst({ where: eq(nodeCommands.id, bad) }))
      .toMatchObject({ status: "done", resultStatus: 400 });
    if (sent.type === "command") await recordCommandResult(db, nodeId, sent.id, { status: 200, body: {} });
    await next;

    const unanswered = await sendNodeCommand(db, nodeId, { method: "GET", route: DAEMON_ROUTES.health }, 300);
    expect(unanswered).toBe("timeout");
    await channel.cancel();
  });
});
