import { randomBytes } from "node:crypto";
import path from "node:path";
import { asc, eq, inArray, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type Db, openDb } from "@/db/client";
import { webhookAttempts, webhookDeliveries } from "@/db/schema";
import { notify } from "@/lib/notifications/notify";
import { addMember, createProject } from "@/lib/projects/projects";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import {
  attemptDelivery,
  claimDelivery,
  DELIVERY_RETENTION_MS,
  dueDeliveries,
  enqueueDeliveries,
  MAX_ATTEMPTS,
} from "@/lib/webhooks/deliveries";
import { guardedLookup, postWebhook } from "@/lib/webhooks/post";
import { startWebhookRunner, type WebhookRunner } from "@/lib/webhooks/runner";
import { verifySignature } from "@/lib/webhooks/signature";
import {
  addWebhook,
  listDeliveries,
  listWebhooks,
  removeWebhook,
  replayDelivery,
  type WebhookDeliverySummary,
} from "@/lib/webhooks/store";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";
import { type ReceivedRequest, startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver";

const SECRET = "a-shared-signing-secret-0123456789";
const PUBLIC_URL = "https://sam.example.test";

let db: Db;
let dir: string;
let cleanups: (() => void | Promise<void>)[];
let owner: User;
let projectId: string;
let key: Buffer;
let receiver: WebhookReceiver;
let runner: WebhookRunner | undefined;
let eventCount = 0;

beforeEach(async () => {
  const testDb = await makeTestDb();
  const tmp = makeTempDir("sam-webhooks-");
  db = testDb.db;
  dir = testDb.dir;
  owner = await ensureInstanceOwner(db);
  projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(tmp.dir, "repo")), name: "demo" })).id;
  key = randomBytes(32);
  receiver = await startWebhookReceiver();
  cleanups = [() => runner?.stop(), () => receiver.close(), testDb.cleanup, tmp.cleanup];
  runner = undefined;
});
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** A notification event raised the way the app raises them. */
async function raise(kind: "task_completed" | "task_failed" | "needs_input" | "progress" = "task_completed") {
  eventCount += 1;
  const result = await notify(db, {
    kind,
    projectId,
    title: `Event ${eventCount}`,
    body: `Body ${eventCount}`,
    dedupKey: `${kind}:${eventCount}:${Math.random()}`,
  });
  return result!.seq;
}

/** A webhook's delivery log once `done` holds for it (the receiver answers before the attempt is recorded). */
async function logWhen(hookId: string, done: (log: WebhookDeliverySummary[]) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const log = await listDeliveries(db, owner.id, hookId);
    if (done(log)) return log;
    if (Date.now() > deadline) throw new Error(`The delivery log did not settle: ${JSON.stringify(log)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startRunner() {
  runner = startWebhookRunner(db, { key, publicUrl: () => PUBLIC_URL, pollMs: 100 });
  return runner;
}

describe("webhook management", () => {
  test("the URL and secret are stored encrypted and never listed; the list shows a hint", async () => {
    const url = `${receiver.origin}/services/T0SECRET/B0SECRET/token123`;
    const added = await addWebhook(db, key, owner.id, projectId, { url, secret: SECRET });
    expect(added).toMatchObject({ urlHint: `${receiver.origin}/…`, format: "json", signed: true });
    expect(added.kinds).toEqual(["needs_input", "task_completed", "task_failed", "pr_opened", "pr_merged"]);
    const listed = await listWebhooks(db, owner.id, projectId);
    expect(JSON.stringify(listed)).not.toContain("SECRET");
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    const raw = JSON.stringify((await db.$client.execute("SELECT * FROM webhooks")).rows);
    expect(raw).not.toContain("T0SECRET");
    expect(raw).not.toContain(SECRET);
  });

  test("only an owner may add, list or remove a project's webhooks", async () => {
    const member = await createLocalUser(db, { email: "member@example.com" });
    const stranger = await createLocalUser(db, { email: "stranger@example.com" });
    await addMember(db, owner.id, projectId, { email: "member@example.com" });
    const input = { url: `${receiver.origin}/hook` };
    await expect(addWebhook(db, key, member.id, projectId, input)).rejects.toMatchObject({ code: "forbidden" });
    await expect(addWebhook(db, key, stranger.id, projectId, input)).rejects.toMatchObject({ code: "not_found" });
    const hook = await addWebhook(db, key, owner.id, projectId, input);
    await expect(listWebhooks(db, member.id, projectId)).rejects.toMatchObject({ code: "forbidden" });
    await expect(removeWebhook(db, member.id, hook.id)).rejects.toMatchObject({ code: "forbidden" });
    await expect(removeWebhook(db, stranger.id, hook.id)).rejects.toMatchObject({ code: "not_found" });
    expect(await listWebhooks(db, owner.id, projectId)).toHaveLength(1);
  });

  test("a secret is refused for the unsigned formats, and unknown kinds are named", async () => {
    await expect(
      addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/x`, format: "slack", secret: SECRET }),
    ).rejects.toThrow(/Only the json format is signed/);
    await expect(
      addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/x`, kinds: ["task_done"] }),
    ).rejects.toThrow(/kinds\.0/);
    await expect(
      addWebhook(db, key, owner.id, projectId, { url: "http://169.254.169.254/latest/meta-data/" }),
    ).rejects.toThrow(/link-local or cloud-metadata/);
  });
});

describe("webhook deliveries", () => {
  test("a new webhook gets the events raised after it was added, of its kinds, signed", async () => {
    await raise();
    const hook = await addWebhook(db, key, owner.id, projectId, {
      url: `${receiver.origin}/hook`,
      secret: SECRET,
      kinds: ["task_completed", "needs_input"],
    });
    const seq = await raise("task_completed");
    await raise("progress");
    const needs = await raise("needs_input");
    startRunner();
    const requests = (await receiver.waitFor((r) => r.length >= 2)).slice(0, 2);
    // A later event arriving shows the progress one (between them) was passed over, not late.
    const later = await raise("task_completed");
    await receiver.waitFor((r) => r.some((x) => (x.json as { event: { seq: number } }).event.seq === later));
    expect(receiver.requests).toHaveLength(3);
    const bodies = requests.map((r) => r.json as { id: string; event: { seq: number; url: string } });
    expect(bodies.map((b) => b.event.seq).sort()).toEqual([seq, needs].sort());
    for (const request of requests) {
      const signature = request.headers["x-sam-signature-256"] as string;
      expect(verifySignature(SECRET, request.raw, signature)).toBe(true);
      expect(verifySignature("some-other-secret-0123456789", request.raw, signature)).toBe(false);
      expect(request.headers["x-sam-delivery"]).toBe((request.json as { id: string }).id);
    }
    expect(requests.map((r) => r.headers["x-sam-event"]).sort()).toEqual(["needs_input", "task_completed"]);
    const log = await logWhen(hook.id, (l) => l.every((d) => d.status === "delivered"));
    expect(log.map((d) => [d.status, d.attempts, d.lastStatusCode])).toEqual([
      ["delivered", 1, 200],
      ["delivered", 1, 200],
      ["delivered", 1, 200],
    ]);
  });

  test("two runners taking the same events create one delivery per event", async () => {
    await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    const other = openDb({ url: `file:${path.join(dir, "sam.db")}` });
    cleanups.unshift(() => other.$client.close());
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 7; i++) await raise();
      await Promise.all([enqueueDeliveries(db), enqueueDeliveries(other), enqueueDeliveries(db)]);
    }
    const [{ n, events }] = (await db.all<{ n: number; events: number }>(
      sql`SELECT count(*) AS n, count(DISTINCT event_seq) AS events FROM webhook_deliveries`,
    )) as [{ n: number; events: number }];
    expect(n).toBe(35);
    expect(events).toBe(35);
  });

  test("one sender per attempt: of two claims on a due delivery, one wins", async () => {
    await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    await raise();
    await enqueueDeliveries(db);
    const [due] = await dueDeliveries(db, 10);
    const other = openDb({ url: `file:${path.join(dir, "sam.db")}` });
    cleanups.unshift(() => other.$client.close());
    const claims = await Promise.all([claimDelivery(db, due!), claimDelivery(other, due!), claimDelivery(db, due!)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await dueDeliveries(db, 10)).toEqual([]);
  });

  test("a receiver that answers 500 twice gets the event on the third try, each attempt logged", async () => {
    receiver.answer((n) => (n <= 2 ? 500 : 200));
    const hook = await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    await raise();
    startRunner();
    const requests = await receiver.waitFor((r) => r.length >= 3, 20_000);
    // Backoff: 1 s, then 2 s.
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(900);
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(1900);
    expect(new Set(requests.map((r) => r.headers["x-sam-delivery"])).size).toBe(1);
    const log = await logWhen(hook.id, (l) => l[0]?.status === "delivered");
    expect(log[0]).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200, lastError: null });
    expect(log[0]!.attemptLog.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, "HTTP 500: nope"],
      [2, 500, "HTTP 500: nope"],
      [3, 200, null],
    ]);
  });

  test("a 429 is retried no sooner than its Retry-After", async () => {
    receiver.answer((n) => (n === 1 ? 429 : 200), { "retry-after": "3" });
    await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    await raise();
    startRunner();
    const requests = await receiver.waitFor((r) => r.length >= 2, 20_000);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(2900);
  });

  test(`a delivery fails after ${MAX_ATTEMPTS} refused attempts`, async () => {
    receiver.answer(503);
    const hook = await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    await raise();
    await enqueueDeliveries(db);
    const outcomes: string[] = [];
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      // The test does not wait out the backoff: it makes the delivery due now.
      await db.update(webhookDeliveries).set({ nextAttemptAt: new Date(0) });
      const [due] = await dueDeliveries(db, 1);
      outcomes.push(await attemptDelivery(db, key, PUBLIC_URL, (await claimDelivery(db, due!))!));
    }
    expect(outcomes).toEqual([...Array(MAX_ATTEMPTS - 1).fill("pending"), "failed"]);
    expect(await dueDeliveries(db, 10)).toEqual([]);
    const [delivery] = await listDeliveries(db, owner.id, hook.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, lastStatusCode: 503 });
    expect(await db.select().from(webhookAttempts)).toHaveLength(MAX_ATTEMPTS);
  });

  test("a webhook that cannot be decrypted (the instance key changed) logs that as the attempt's error", async () => {
    const hook = await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    await raise();
    await enqueueDeliveries(db);
    const [due] = await dueDeliveries(db, 1);
    const claimed = (await claimDelivery(db, due!))!;
    expect(await attemptDelivery(db, randomBytes(32), PUBLIC_URL, claimed)).toBe("pending");
    const [delivery] = await listDeliveries(db, owner.id, hook.id);
    expect(delivery!.attemptLog).toMatchObject([{ statusCode: null, error: expect.stringMatching(/SAM_SECRET_KEY/) }]);
    expect(receiver.requests).toHaveLength(0);
  });

  test("a replay is a new delivery of the same event, sent at once", async () => {
    const hook = await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    const seq = await raise();
    const live = startRunner();
    await receiver.waitFor((r) => r.length >= 1);
    const [first] = await listDeliveries(db, owner.id, hook.id);
    const replay = await replayDelivery(db, owner.id, first!.id);
    expect(replay).toMatchObject({ replayOfId: first!.id, eventSeq: seq, status: "pending" });
    live.kick();
    const requests = await receiver.waitFor((r) => r.length >= 2);
    expect(requests[1]!.headers["x-sam-delivery"]).toBe(replay.id);
    expect((requests[1]!.json as { event: { seq: number } }).event.seq).toBe(seq);
  });

  test("a removed webhook gets nothing more, pending deliveries included", async () => {
    // Both refuse their first request; the control's retry comes when the removed one's would have.
    receiver.answer((_n, path) =>
      path === "/doomed" || receiver.requests.every((r) => r.path !== "/control") ? 500 : 200,
    );
    const doomed = await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/doomed` });
    await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/control` });
    const first = await raise();
    startRunner();
    await receiver.waitFor((r) => r.some((x) => x.path === "/doomed") && r.some((x) => x.path === "/control"));
    await removeWebhook(db, owner.id, doomed.id);
    const second = await raise();
    const seqsAt = (r: ReceivedRequest[], path: string) =>
      r
        .filter((x) => x.path === path && x.answered === 200)
        .map((x) => (x.json as { event: { seq: number } }).event.seq);
    await receiver.waitFor((r) => seqsAt(r, "/control").includes(first) && seqsAt(r, "/control").includes(second));
    expect(receiver.requests.filter((r) => r.path === "/doomed")).toHaveLength(1);
    expect(await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, doomed.id))).toEqual([]);
  });

  test("the runner deletes finished deliveries older than 30 days with their attempts; pending and newer ones stay", async () => {
    const hook = await addWebhook(db, key, owner.id, projectId, { url: `${receiver.origin}/hook` });
    for (let i = 0; i < 4; i++) await raise();
    startRunner();
    await logWhen(hook.id, (l) => l.length === 4 && l.every((d) => d.status === "delivered"));
    runner!.stop();
    const rows = await db.select().from(webhookDeliveries).orderBy(asc(webhookDeliveries.eventSeq));
    const [oldDelivered, oldFailed, recent, oldPending] = rows.map((r) => r.id) as [string, string, string, string];
    const expired = new Date(Date.now() - DELIVERY_RETENTION_MS - 60_000);
    await db
      .update(webhookDeliveries)
      .set({ createdAt: expired })
      .where(inArray(webhookDeliveries.id, [oldDelivered, oldFailed, oldPending]));
    await db.update(webhookDeliveries).set({ status: "failed" }).where(eq(webhookDeliveries.id, oldFailed));
    await db
      .update(webhookDeliveries)
      .set({ status: "pending", nextAttemptAt: new Date(Date.now() + 3_600_000) })
      .where(eq(webhookDeliveries.id, oldPending));

    startRunner();
    const kept = async () =>
      (await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries)).map((r) => r.id).sort();
    await expect.poll(kept, { timeout: 10_000 }).toEqual([recent, oldPending].sort());
    const attempts = await db.select({ deliveryId: webhookAttempts.deliveryId }).from(webhookAttempts);
    expect(attempts.map((a) => a.deliveryId).sort()).toEqual([recent, oldPending].sort());
  });

  test("a host name that resolves to a metadata address is refused at send time", async () => {
    // What an attacker's DNS would answer for a name that passed the judgement when it was added.
    const rebinding = guardedLookup((_host, _opts, callback) =>
      callback(null, [{ address: "169.254.169.254", family: 4 }]),
    );
    const outcome = await postWebhook("http://hooks.attacker.test/x", "{}", {}, 2000, rebinding);
    expect(outcome).toMatchObject({ statusCode: null });
    expect(outcome.error).toMatch(/link-local or cloud-metadata/);
    // The same name answering a loopback address is sent to (self-hosters' own services).
    const local = guardedLookup((_host, _opts, callback) => callback(null, [{ address: "127.0.0.1", family: 4 }]));
    const ok = await postWebhook(`http://receiver.lan.test:${receiver.port}/x`, "{}", {}, 2000, local);
    expect(ok).toMatchObject({ statusCode: 200, error: null });
  });

  test("a receiver's answer echoing the URL does not bring it into the log", async () => {
    const secretUrl = `${receiver.origin}/services/T0SECRET/B0SECRET/token123?key=SECRETKEY`;
    const echo = await startWebhookReceiverEcho();
    cleanups.unshift(() => echo.close());
    const outcome = await postWebhook(secretUrl.replace(receiver.origin, echo.origin), "{}", {}, 2000);
    expect(outcome.statusCode).toBe(400);
    expect(outcome.error).not.toContain("SECRET");
  });
});

/** A receiver that answers 400 repeating the request line, as some error pages do. */
async function startWebhookReceiverEcho() {
  const http = await import("node:http");
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(400);
    res.end(`bad request to ${req.url} (http://${req.headers.host}${req.url})`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
