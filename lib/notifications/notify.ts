import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { NotificationKind } from "@/db/schema";
import { SamError } from "../errors";
import { emitNotificationsChanged } from "../events/bus";

export interface NotifyInput {
  kind: NotificationKind;
  projectId: string;
  taskId?: string | null;
  title: string;
  body?: string;
  urgency?: "low" | "normal" | "high";
  /** One event per key, ever: `task_completed:<taskId>`, `needs_input:<requestId>`, ... */
  dedupKey: string;
}

/**
 * What a notification says, without credentials embedded in URLs (`https://user:token@host`): a
 * failure reason may quote a git remote, and webhooks carry the text out of SAM.
 */
export function withoutCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
}

/** Progress from one task is one notification per window, updated in place, not repeated. */
export const PROGRESS_WINDOW_MS = 5 * 60 * 1000;

/** A random UUID (v4 layout) made in SQL, for rows inserted by an INSERT ... SELECT. */
const NEW_UUID = sql`lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
  || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

/**
 * The notification copies of one new event: every member of its project whose preferences do not
 * turn its kind off (no row: on). Invariant: recipients are chosen once, by the call that created the
 * event — `changes() = 1` holds only right after the event's own INSERT applied in this batch.
 */
function recipientsOfNewEvent(dedupKey: string) {
  return sql`
    INSERT INTO notifications (id, user_id, event_seq)
    SELECT ${NEW_UUID}, m.user_id, e.seq
    FROM notification_events e JOIN project_members m ON m.project_id = e.project_id
    WHERE e.dedup_key = ${dedupKey} AND changes() = 1
      AND NOT EXISTS (
        SELECT 1 FROM notification_prefs p
        WHERE p.user_id = m.user_id AND p.project_id = e.project_id AND p.kind = e.kind AND p.enabled = 0)
    RETURNING user_id AS userId`;
}

/**
 * Tells a project's members that something happened, once per `dedupKey`: one event (what webhooks
 * send) and one copy per member who wants this kind. Null when the key was seen before.
 */
export async function notify(db: Db, input: NotifyInput): Promise<{ seq: number; created: boolean } | null> {
  const now = Date.now();
  const [events, recipients] = await db.batch([
    // Invariant: one event per dedup key (the UNIQUE key turns a repeat into nothing).
    db.all<{ seq: number }>(sql`
      INSERT INTO notification_events (project_id, task_id, kind, urgency, title, body, dedup_key, created_at, updated_at)
      VALUES (${input.projectId}, ${input.taskId ?? null}, ${input.kind}, ${input.urgency ?? "normal"},
        ${withoutCredentials(input.title)}, ${withoutCredentials(input.body ?? "")}, ${input.dedupKey}, ${now}, ${now})
      ON CONFLICT (dedup_key) DO NOTHING
      RETURNING seq`),
    db.all<{ userId: string }>(recipientsOfNewEvent(input.dedupKey)),
  ]);
  const seq = events[0]?.seq;
  if (seq === undefined) return null;
  emitNotificationsChanged({ projectId: input.projectId, userIds: recipients.map((r) => r.userId), seq });
  return { seq, created: true };
}

/**
 * A task's progress report: within PROGRESS_WINDOW_MS of the creation of its latest progress event
 * that event is updated in place (and is unread again for its recipients); otherwise a new one starts
 * the next window. `created` says which.
 */
export async function notifyProgress(
  db: Db,
  input: { projectId: string; taskId: string; title: string; body: string },
): Promise<{ seq: number; created: boolean }> {
  // One instant for every statement, so that they all agree on whether the window is open.
  const now = Date.now();
  const windowOpen = sql`
    SELECT seq FROM notification_events
    WHERE task_id = ${input.taskId} AND kind = 'progress' AND created_at > ${now - PROGRESS_WINDOW_MS}
    ORDER BY created_at DESC, seq DESC LIMIT 1`;
  const dedupKey = `progress:${input.taskId}:${now}`;
  const title = withoutCredentials(input.title);
  const body = withoutCredentials(input.body);
  // Invariant: a task has one progress event per window. The batch is one write transaction: the
  // update applies only to the open window's event, the insert only when there is none (so 20
  // concurrent reports make one event, holding the last message).
  const [updated, reopened, inserted, recipients] = await db.batch([
    db.all<{ seq: number }>(sql`
      UPDATE notification_events SET title = ${title}, body = ${body}, updated_at = ${now}
      WHERE seq = (${windowOpen})
      RETURNING seq`),
    db.all<{ userId: string }>(sql`
      UPDATE notifications SET read_at = NULL WHERE event_seq = (${windowOpen})
      RETURNING user_id AS userId`),
    db.all<{ seq: number }>(sql`
      INSERT INTO notification_events (project_id, task_id, kind, urgency, title, body, dedup_key, created_at, updated_at)
      SELECT ${input.projectId}, ${input.taskId}, 'progress', 'low', ${title}, ${body}, ${dedupKey}, ${now}, ${now}
      WHERE NOT EXISTS (${windowOpen})
      ON CONFLICT (dedup_key) DO NOTHING
      RETURNING seq`),
    db.all<{ userId: string }>(recipientsOfNewEvent(dedupKey)),
  ]);
  const created = inserted[0]?.seq !== undefined;
  const seq = inserted[0]?.seq ?? updated[0]?.seq;
  if (seq === undefined) throw new SamError("internal", "A progress report made no notification event");
  const userIds = (created ? recipients : reopened).map((r) => r.userId);
  emitNotificationsChanged({ projectId: input.projectId, userIds, seq });
  return { seq, created };
}
