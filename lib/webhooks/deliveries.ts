import { and, asc, eq, gt, inArray, lt, lte, notInArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type NotificationKind, notificationEvents, projects, webhookDeliveries, webhooks } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { payloadOf, type WebhookEvent } from "./payloads";
import { postWebhook } from "./post";
import { SIGNATURE_HEADER, signBody } from "./signature";
import { type WebhookTarget, webhookTarget } from "./store";

export const MAX_ATTEMPTS = 8;
export const ATTEMPT_TIMEOUT_MS = 10_000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
/** The most a receiver's Retry-After may hold a delivery back. */
const RETRY_AFTER_MAX_MS = 60 * 60_000;
/**
 * A claimed attempt's lease: past it (the sender died mid-attempt) the delivery is due again. Longer
 * than an attempt can take, so a live sender is never overtaken.
 */
const LEASE_MS = ATTEMPT_TIMEOUT_MS + 20_000;
/** Events a webhook takes per statement batch; the next pass takes the rest. */
const ENQUEUE_BATCH = 100;
/** How long a finished delivery (delivered or failed) stays in the log, with its attempts. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60_000;

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;

/** The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s, … up to a minute. */
export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);
}

/**
 * Takes every webhook's new events (after its cursor, of its kinds) as deliveries. Returns how many
 * were created.
 */
export async function enqueueDeliveries(db: Db): Promise<number> {
  const hooks = await db
    .select({ id: webhooks.id, projectId: webhooks.projectId, kinds: webhooks.kinds, cursorSeq: webhooks.cursorSeq })
    .from(webhooks);
  if (hooks.length === 0) return 0;
  // Read first: an event committed later has a higher seq (SQLite writes one transaction at a time).
  const [{ maxSeq } = { maxSeq: 0 }] = await db
    .select({ maxSeq: sql<number>`coalesce(max(${notificationEvents.seq}), 0)` })
    .from(notificationEvents);
  let created = 0;
  for (const hook of hooks) {
    if (hook.cursorSeq >= maxSeq) continue;
    const kinds = JSON.parse(hook.kinds) as NotificationKind[];
    const events = await db
      .select({ seq: notificationEvents.seq })
      .from(notificationEvents)
      .where(
        and(
          eq(notificationEvents.projectId, hook.projectId),
          gt(notificationEvents.seq, hook.cursorSeq),
          lte(notificationEvents.seq, maxSeq),
          inArray(notificationEvents.kind, kinds),
        ),
      )
      .orderBy(asc(notificationEvents.seq))
      .limit(ENQUEUE_BATCH);
    const upTo = events.length === ENQUEUE_BATCH ? events[events.length - 1]!.seq : maxSeq;
    // Invariant: a webhook's deliveries are created once per event. Every statement is guarded by the
    // cursor this pass read, and the batch (one write transaction) moves it on last: of two runners
    // that read the same cursor, only the first batch applies.
    const atCursor = sql`EXISTS (SELECT 1 FROM webhooks WHERE id = ${hook.id} AND cursor_seq = ${hook.cursorSeq})`;
    const rows = sql.join(
      events.map((e) => sql`(${newId()}, ${e.seq})`),
      sql`, `,
    );
    const [inserted] = await db.batch([
      db.run(
        events.length === 0
          ? sql`SELECT 0 WHERE 0`
          : sql`
            INSERT INTO webhook_deliveries (id, webhook_id, event_seq)
            SELECT column1, ${hook.id}, column2 FROM (VALUES ${rows}) WHERE ${atCursor}`,
      ),
      db.run(sql`UPDATE webhooks SET cursor_seq = ${upTo} WHERE id = ${hook.id} AND cursor_seq = ${hook.cursorSeq}`),
    ]);
    created += inserted.rowsAffected;
  }
  return created;
}

/**
 * Deletes the finished deliveries created before `before` (their attempts go with them), so the log
 * does not grow for as long as the instance runs. Pending ones stay whatever their age: they still
 * have attempts to make. Returns how many were deleted.
 */
export async function pruneDeliveries(
  db: Db,
  before: Date = new Date(Date.now() - DELIVERY_RETENTION_MS),
): Promise<number> {
  const result = await db
    .delete(webhookDeliveries)
    .where(and(inArray(webhookDeliveries.status, ["delivered", "failed"]), lt(webhookDeliveries.createdAt, before)));
  return result.rowsAffected;
}

export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  eventSeq: number;
  /** This attempt's number, from 1. */
  attempt: number;
}

/** Pending deliveries whose time has come, oldest due first, leaving out those this process sends. */
export async function dueDeliveries(
  db: Db,
  limit: number,
  exclude: string[] = [],
): Promise<{ id: string; attempts: number }[]> {
  if (limit <= 0) return [];
  return db
    .select({ id: webhookDeliveries.id, attempts: webhookDeliveries.attempts })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, "pending"),
        lte(webhookDeliveries.nextAttemptAt, new Date()),
        exclude.length > 0 ? notInArray(webhookDeliveries.id, exclude) : undefined,
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit);
}

/**
 * Claims the next attempt at a due delivery, or undefined when another sender did first.
 * Invariant: one sender per attempt — the attempt count it read must still hold, and the claim
 * holds the delivery for a lease, after which (the sender died) it is due again.
 */
export async function claimDelivery(
  db: Db,
  due: { id: string; attempts: number },
): Promise<ClaimedDelivery | undefined> {
  const rows = await db.all<{ id: string; webhookId: string; eventSeq: number; attempts: number }>(sql`
    UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ${NOW} + ${LEASE_MS}
    WHERE id = ${due.id} AND status = 'pending' AND attempts = ${due.attempts} AND next_attempt_at <= ${NOW}
    RETURNING id, webhook_id AS webhookId, event_seq AS eventSeq, attempts`);
  const row = rows[0];
  return row ? { id: row.id, webhookId: row.webhookId, eventSeq: row.eventSeq, attempt: row.attempts } : undefined;
}

/** The event as a webhook tells it, with the link to its task in SAM. */
async function webhookEventOf(db: Db, seq: number, publicUrl: string): Promise<WebhookEvent | undefined> {
  const [row] = await db
    .select({ event: notificationEvents, projectName: projects.name })
    .from(notificationEvents)
    .innerJoin(projects, eq(projects.id, notificationEvents.projectId))
    .where(eq(notificationEvents.seq, seq))
    .limit(1);
  if (!row) return undefined;
  const { event } = row;
  const base = `${publicUrl}/projects/${event.projectId}`;
  return {
    seq: event.seq,
    kind: event.kind,
    urgency: event.urgency,
    title: event.title,
    body: event.body,
    projectId: event.projectId,
    projectName: row.projectName,
    taskId: event.taskId,
    url: event.taskId ? `${base}/tasks/${event.taskId}` : base,
    createdAt: event.createdAt,
    updatedAt: event.updatedAt,
  };
}

/** A webhook's target, or why it cannot be read (an instance key that changed): that is the attempt's error. */
async function webhookTargetOrError(db: Db, key: Buffer, webhookId: string) {
  try {
    return await webhookTarget(db, key, webhookId);
  } catch (err) {
    return { error: SamError.is(err) ? err.message : "the webhook cannot be read" };
  }
}

/** POSTs one delivery of an event in the webhook's format, signed when it has a secret. */
function post(target: WebhookTarget, deliveryId: string, event: WebhookEvent) {
  const body = payloadOf(target.format, deliveryId, event);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "SAM-Webhooks/1",
    "x-sam-event": event.kind,
    "x-sam-delivery": deliveryId,
  };
  if (target.format === "json" && target.secret !== null) headers[SIGNATURE_HEADER] = signBody(target.secret, body);
  return postWebhook(target.url, body, headers, ATTEMPT_TIMEOUT_MS);
}

/**
 * Makes one claimed attempt and records it: the attempt's log row and the delivery's new state
 * (delivered on a 2xx; else due again after the backoff or the receiver's Retry-After; failed
 * after the last attempt), both guarded by the claim so a sender whose lease ran out writes nothing.
 */
export async function attemptDelivery(
  db: Db,
  key: Buffer,
  publicUrl: string,
  claimed: ClaimedDelivery,
): Promise<"delivered" | "pending" | "failed" | "gone"> {
  const [target, event] = await Promise.all([
    webhookTargetOrError(db, key, claimed.webhookId),
    webhookEventOf(db, claimed.eventSeq, publicUrl),
  ]);
  // The webhook or its event was deleted since the claim: their deliveries went with them.
  if (!target || !event) return "gone";
  const outcome =
    "error" in target
      ? { ...target, statusCode: null, retryAfterMs: null, durationMs: 0 }
      : await post(target, claimed.id, event);

  const delivered = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const status = delivered ? "delivered" : claimed.attempt >= MAX_ATTEMPTS ? "failed" : "pending";
  const waitMs = Math.min(outcome.retryAfterMs ?? backoffMs(claimed.attempt), RETRY_AFTER_MAX_MS);
  const claimHolds = sql`id = ${claimed.id} AND status = 'pending' AND attempts = ${claimed.attempt}`;
  await db.batch([
    db.run(sql`
      INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms)
      SELECT id, attempts, ${outcome.statusCode}, ${outcome.error}, ${outcome.durationMs}
      FROM webhook_deliveries WHERE ${claimHolds}`),
    db.run(sql`
      UPDATE webhook_deliveries SET status = ${status}, last_status_code = ${outcome.statusCode},
        last_error = ${outcome.error},
        next_attempt_at = ${status === "pending" ? sql`${NOW} + ${waitMs}` : sql`next_attempt_at`},
        delivered_at = ${delivered ? NOW : null}
      WHERE ${claimHolds}`),
  ]);
  return status;
}

/**
 * One whole pass, awaited: expired deliveries are deleted, new events become deliveries and the due
 * ones are attempted. For hosts without a long-lived process (the cron route); the runner does the
 * same continuously.
 */
export async function webhookPass(db: Db, key: Buffer, publicUrl: string, limit = 50): Promise<number> {
  await pruneDeliveries(db);
  await enqueueDeliveries(db);
  const claimed: ClaimedDelivery[] = [];
  for (const due of await dueDeliveries(db, limit)) {
    const claim = await claimDelivery(db, due);
    if (claim) claimed.push(claim);
  }
  await Promise.all(claimed.map((c) => attemptDelivery(db, key, publicUrl, c)));
  return claimed.length;
}
