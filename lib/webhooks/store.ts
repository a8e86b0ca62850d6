import { desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import {
  NOTIFICATION_KINDS,
  type NotificationKind,
  notificationEvents,
  WEBHOOK_FORMATS,
  webhookAttempts,
  webhookDeliveries,
  webhooks,
} from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { requireOwner } from "../projects/projects";
import { decryptSecret, encryptSecret } from "../secrets/crypto";
import { parseInput } from "../validation";
import type { WebhookFormat } from "./payloads";
import { judgeWebhookUrl, urlHintOf } from "./url";

/** What a webhook gets when no kinds are chosen: everything but progress, which is chatty. */
export const DEFAULT_WEBHOOK_KINDS: NotificationKind[] = [
  "needs_input",
  "task_completed",
  "task_failed",
  "pr_opened",
  "pr_merged",
];

const MIN_SECRET_LENGTH = 16;

export const addWebhookSchema = z
  .object({
    url: z.string({ message: "A webhook URL is required" }),
    format: z.enum(WEBHOOK_FORMATS, { message: `Format must be one of ${WEBHOOK_FORMATS.join(", ")}` }).default("json"),
    // Short HMAC secrets can be guessed offline from one signed body.
    secret: z
      .string()
      .min(MIN_SECRET_LENGTH, { message: `The signing secret must be at least ${MIN_SECRET_LENGTH} characters` })
      .max(1024, { message: "The signing secret is longer than 1024 characters" })
      .optional(),
    kinds: z
      .array(z.enum(NOTIFICATION_KINDS, { message: `Kinds must be among ${NOTIFICATION_KINDS.join(", ")}` }))
      .min(1, { message: "Choose at least one kind" })
      .optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.secret !== undefined && input.format !== "json") {
      ctx.addIssue({
        code: "custom",
        path: ["secret"],
        message: "Only the json format is signed; Slack and Discord do not check a signature",
      });
    }
  });

/** What anyone is shown of a webhook: never its URL or secret, only a hint of where it posts. */
export interface WebhookSummary {
  id: string;
  projectId: string;
  urlHint: string;
  format: WebhookFormat;
  signed: boolean;
  kinds: NotificationKind[];
  createdAt: Date;
}

export interface WebhookAttemptSummary {
  attempt: number;
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDeliverySummary {
  id: string;
  webhookId: string;
  eventSeq: number;
  kind: NotificationKind;
  title: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** When the next attempt is due; null once delivered or failed. */
  nextAttemptAt: Date | null;
  replayOfId: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  attemptLog: WebhookAttemptSummary[];
}

// The stored ciphertexts are bound to their webhook and column: one cannot be swapped for another.
const urlAad = (webhookId: string) => `sam-webhook-url:${webhookId}`;
const secretAad = (webhookId: string) => `sam-webhook-secret:${webhookId}`;

function summarize(row: typeof webhooks.$inferSelect): WebhookSummary {
  return {
    id: row.id,
    projectId: row.projectId,
    urlHint: row.urlHint,
    format: row.format,
    signed: row.secretCiphertext !== null,
    kinds: JSON.parse(row.kinds) as NotificationKind[],
    createdAt: row.createdAt,
  };
}

/**
 * Adds a webhook to a project (owners only). It is sent the events raised from now on: its cursor
 * starts at the newest event, in the same statement that inserts it.
 */
export async function addWebhook(
  db: Db,
  key: Buffer,
  userId: string,
  projectId: string,
  input: unknown,
): Promise<WebhookSummary> {
  const parsed = parseInput(addWebhookSchema, input);
  const url = judgeWebhookUrl(parsed.url);
  await requireOwner(db, userId, projectId);
  const id = newId();
  const kinds = NOTIFICATION_KINDS.filter((k) => (parsed.kinds ?? DEFAULT_WEBHOOK_KINDS).includes(k));
  const [row] = await db
    .insert(webhooks)
    .values({
      id,
      projectId,
      urlCiphertext: encryptSecret(key, url.href, urlAad(id)),
      urlHint: urlHintOf(url),
      format: parsed.format,
      secretCiphertext: parsed.secret === undefined ? null : encryptSecret(key, parsed.secret, secretAad(id)),
      kinds: JSON.stringify(kinds),
      cursorSeq: sql`(SELECT coalesce(max(${notificationEvents.seq}), 0) FROM ${notificationEvents})`,
      createdByUserId: userId,
    })
    .returning();
  if (!row) throw new SamError("internal", "The webhook was not stored");
  return summarize(row);
}

export async function listWebhooks(db: Db, userId: string, projectId: string): Promise<WebhookSummary[]> {
  await requireOwner(db, userId, projectId);
  const rows = await db.query.webhooks.findMany({
    where: eq(webhooks.projectId, projectId),
    orderBy: webhooks.createdAt,
  });
  return rows.map(summarize);
}

/** A webhook, for an owner of its project; to anyone else it does not exist. */
async function ownedWebhook(db: Db, userId: string, webhookId: string) {
  const row = await db.query.webhooks.findFirst({ where: eq(webhooks.id, webhookId) });
  if (!row) throw new SamError("not_found", "Webhook not found");
  try {
    await requireOwner(db, userId, row.projectId);
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") throw new SamError("not_found", "Webhook not found");
    throw err;
  }
  return row;
}

/** The project a webhook belongs to, for an owner of it (routes check it against the URL's project). */
export async function webhookProjectId(db: Db, userId: string, webhookId: string): Promise<string> {
  return (await ownedWebhook(db, userId, webhookId)).projectId;
}

/** Removes a webhook; its pending deliveries go with it (nothing more is sent). */
export async function removeWebhook(db: Db, userId: string, webhookId: string): Promise<void> {
  await ownedWebhook(db, userId, webhookId);
  await db.delete(webhooks).where(eq(webhooks.id, webhookId));
}

/** Deliveries (newest first) with every attempt, for a log. */
async function deliverySummaries(db: Db, where: SQL, limit: number): Promise<WebhookDeliverySummary[]> {
  const rows = await db
    .select({ delivery: webhookDeliveries, kind: notificationEvents.kind, title: notificationEvents.title })
    .from(webhookDeliveries)
    .innerJoin(notificationEvents, eq(notificationEvents.seq, webhookDeliveries.eventSeq))
    .where(where)
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.eventSeq))
    .limit(limit);
  const ids = rows.map((r) => r.delivery.id);
  const attempts =
    ids.length === 0
      ? []
      : await db
          .select()
          .from(webhookAttempts)
          .where(inArray(webhookAttempts.deliveryId, ids))
          .orderBy(webhookAttempts.id);
  return rows.map(({ delivery, kind, title }) => ({
    id: delivery.id,
    webhookId: delivery.webhookId,
    eventSeq: delivery.eventSeq,
    kind,
    title,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.status === "pending" ? delivery.nextAttemptAt : null,
    replayOfId: delivery.replayOfId,
    createdAt: delivery.createdAt,
    deliveredAt: delivery.deliveredAt,
    attemptLog: attempts
      .filter((a) => a.deliveryId === delivery.id)
      .map((a) => ({
        attempt: a.attempt,
        at: a.at,
        statusCode: a.statusCode,
        error: a.error,
        durationMs: a.durationMs,
      })),
  }));
}

/** A webhook's most recent deliveries (newest first) with every attempt, for its log. Owners only. */
export async function listDeliveries(
  db: Db,
  userId: string,
  webhookId: string,
  opts: { limit?: number } = {},
): Promise<WebhookDeliverySummary[]> {
  await ownedWebhook(db, userId, webhookId);
  return deliverySummaries(db, eq(webhookDeliveries.webhookId, webhookId), opts.limit ?? 50);
}

/** The webhook a delivery belongs to, for an owner of its project. */
export async function deliveryWebhookId(db: Db, userId: string, deliveryId: string): Promise<string> {
  const row = await db.query.webhookDeliveries.findFirst({ where: eq(webhookDeliveries.id, deliveryId) });
  if (!row) throw new SamError("not_found", "Delivery not found");
  try {
    await ownedWebhook(db, userId, row.webhookId);
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") throw new SamError("not_found", "Delivery not found");
    throw err;
  }
  return row.webhookId;
}

/** Sends an event again: a new delivery of it (replayOfId set), due at once. Owners only. */
export async function replayDelivery(db: Db, userId: string, deliveryId: string): Promise<WebhookDeliverySummary> {
  await deliveryWebhookId(db, userId, deliveryId);
  const id = newId();
  await db.run(sql`
    INSERT INTO webhook_deliveries (id, webhook_id, event_seq, replay_of_id)
    SELECT ${id}, webhook_id, event_seq, id FROM webhook_deliveries WHERE id = ${deliveryId}`);
  const [replay] = await deliverySummaries(db, eq(webhookDeliveries.id, id), 1);
  if (!replay) throw new SamError("internal", "The replay was not stored");
  return replay;
}

/** A webhook's target, decrypted, for the sender only: never returned to a caller or logged. */
export interface WebhookTarget {
  id: string;
  projectId: string;
  format: WebhookFormat;
  url: string;
  secret: string | null;
}

export async function webhookTarget(db: Db, key: Buffer, webhookId: string): Promise<WebhookTarget | undefined> {
  const row = await db.query.webhooks.findFirst({ where: eq(webhooks.id, webhookId) });
  if (!row) return undefined;
  return {
    id: row.id,
    projectId: row.projectId,
    format: row.format,
    url: decryptSecret(key, row.urlCiphertext, urlAad(row.id)),
    secret: row.secretCiphertext === null ? null : decryptSecret(key, row.secretCiphertext, secretAad(row.id)),
  };
}
