import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import type { NotificationKind } from "@/db/schema";
import { parseInput } from "../validation";

/** One person's copy of a notification, as the API, the CLI and the bell show it. */
export interface NotificationView {
  /** The person's own notification id (what they mark read). */
  id: string;
  kind: NotificationKind;
  urgency: "low" | "normal" | "high";
  projectId: string;
  projectName: string;
  taskId: string | null;
  title: string;
  body: string;
  createdAt: Date;
  /** A progress notification is updated in place; its last change. */
  updatedAt: Date;
  readAt: Date | null;
}

export const NOTIFICATIONS_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const MAX_IDS = 500;

export const listNotificationsInputSchema = z
  .object({
    unread: z.enum(["0", "1"], { message: "must be 0 or 1" }).optional(),
    limit: z.coerce
      .number({ message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
      .int({ message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
      .min(1, { message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
      .max(MAX_PAGE_SIZE, { message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
      .default(NOTIFICATIONS_PAGE_SIZE),
    before: z
      .string()
      .trim()
      .min(1, { message: "must be the id of a notification of the previous page" })
      .max(100, { message: "must be the id of a notification of the previous page" })
      .optional(),
  })
  .strict();

export const markReadInputSchema = z.union(
  [
    z
      .object({
        ids: z
          .array(z.string().trim().min(1, { message: "must not be empty" }).max(100), {
            message: "must be a list of notification ids",
          })
          .min(1, { message: "must name at least one notification" })
          .max(MAX_IDS, { message: `must name at most ${MAX_IDS} notifications` }),
      })
      .strict(),
    z.object({ all: z.literal(true, { message: "must be true" }) }).strict(),
  ],
  { message: 'give {"ids": [...]} or {"all": true}' },
);

/**
 * The caller's copies whose project they are still a member of: a person removed from a project
 * sees none of its notifications, whenever they were raised. Every read and write here goes
 * through it, so no path shows or changes someone else's row.
 */
function visibleTo(userId: string, where: SQL = sql`1 = 1`): SQL {
  return sql`
    FROM notifications n
    JOIN notification_events e ON e.seq = n.event_seq
    JOIN project_members pm ON pm.project_id = e.project_id AND pm.user_id = n.user_id
    JOIN projects p ON p.id = e.project_id
    WHERE n.user_id = ${userId} AND ${where}`;
}

interface Row {
  id: string;
  kind: NotificationKind;
  urgency: NotificationView["urgency"];
  project_id: string;
  project_name: string;
  task_id: string | null;
  title: string;
  body: string;
  created_at: number;
  updated_at: number;
  read_at: number | null;
  seq: number;
}

const COLUMNS = sql`n.id, e.kind, e.urgency, e.project_id, p.name AS project_name, e.task_id, e.title, e.body,
  e.created_at, e.updated_at, n.read_at, e.seq`;

function view(r: Row): NotificationView {
  return {
    id: r.id,
    kind: r.kind,
    urgency: r.urgency,
    projectId: r.project_id,
    projectName: r.project_name,
    taskId: r.task_id,
    title: r.title,
    body: r.body,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    readAt: r.read_at === null ? null : new Date(r.read_at),
  };
}

/**
 * A person's notifications, most recently changed first (a progress notification updated in place
 * comes back to the top), `limit` at a time; `before` is the last id of the previous page.
 */
export async function listNotifications(db: Db, userId: string, input: unknown = {}): Promise<NotificationView[]> {
  const { unread, limit, before } = parseInput(listNotificationsInputSchema, input);
  const conditions: SQL[] = [];
  if (unread === "1") conditions.push(sql`n.read_at IS NULL`);
  if (before !== undefined) {
    // An unknown or invisible id matches no row: the page after it is empty, never someone else's.
    conditions.push(sql`(e.updated_at, e.seq) < (
      SELECT e2.updated_at, e2.seq FROM notifications n2 JOIN notification_events e2 ON e2.seq = n2.event_seq
      WHERE n2.id = ${before} AND n2.user_id = ${userId})`);
  }
  const where = conditions.length > 0 ? sql.join(conditions, sql` AND `) : undefined;
  const rows = await db.all<Row>(sql`
    SELECT ${COLUMNS} ${visibleTo(userId, where)}
    ORDER BY e.updated_at DESC, e.seq DESC
    LIMIT ${limit}`);
  return rows.map(view);
}

/** How many of a person's notifications are unread: the bell's number. */
export async function unreadCount(db: Db, userId: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql`SELECT count(*) AS n ${visibleTo(userId, sql`n.read_at IS NULL`)}`);
  return row?.n ?? 0;
}

/**
 * Marks some of a person's notifications read (`ids`), or all of them; returns how many were unread
 * and are now read. Ids that are not the person's own (or of a project they left) are not touched.
 */
export async function markNotificationsRead(db: Db, userId: string, input: unknown): Promise<number> {
  const parsed = parseInput(markReadInputSchema, input);
  const which =
    "ids" in parsed
      ? sql`n.read_at IS NULL AND n.id IN (${sql.join(
          [...new Set(parsed.ids)].map((id) => sql`${id}`),
          sql`, `,
        )})`
      : sql`n.read_at IS NULL`;
  const result = await db.run(sql`
    UPDATE notifications SET read_at = ${Date.now()}
    WHERE id IN (SELECT n.id ${visibleTo(userId, which)})`);
  return result.rowsAffected;
}

/**
 * The person's notifications whose copy or event changed at or after `since` (epoch ms): new ones,
 * progress updated in place, ones marked read elsewhere. For the live stream.
 */
export async function notificationsChangedSince(
  db: Db,
  userId: string,
  since: number,
): Promise<(NotificationView & { changedAt: number })[]> {
  const rows = await db.all<Row & { changed_at: number }>(sql`
    SELECT ${COLUMNS}, max(e.updated_at, n.created_at, coalesce(n.read_at, 0)) AS changed_at
    ${visibleTo(userId, sql`(e.updated_at >= ${since} OR n.created_at >= ${since} OR n.read_at >= ${since})`)}
    ORDER BY e.updated_at DESC, e.seq DESC`);
  return rows.map((r) => ({ ...view(r), changedAt: r.changed_at }));
}
