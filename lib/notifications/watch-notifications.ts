import type { Db } from "@/db/client";
import { onNotificationsChanged } from "../events/bus";
import { followOtherInstances } from "../events/other-instances";
import { wakeable } from "../tasks/watch-task";
import { type NotificationView, notificationsChangedSince, unreadCount } from "./list";

/** What a bell is told: its number, and the notifications that are new or changed since the last frame. */
export interface NotificationChanges {
  /** The change cursor (epoch ms) this frame brings the watcher up to. */
  cursor: number;
  unread: number;
  notifications: NotificationView[];
}

export interface WatchNotificationsOptions {
  /** Where a reconnecting watcher was up to (a last event id); absent: from now on, no backlog. */
  after?: number;
  signal: AbortSignal;
  pollMs?: number;
}

/**
 * How far before the cursor each poll looks again: a row is stamped when its statement runs, so one
 * stamped a moment earlier can commit after a later one was read (another process, another instance).
 */
const LOOKBACK_MS = 5000;

/**
 * One look at a person's notifications for a bell that polls: the unread count and what changed
 * since `after` (a cursor this returned before), looking a little earlier, as the stream does, so a
 * row that committed late is not missed: the bell drops what it has seen. Without `after`: from now,
 * with what changed just before, which a bell takes as known, not news.
 */
export async function notificationChangesSince(db: Db, userId: string, after?: number): Promise<NotificationChanges> {
  const from = after ?? Date.now();
  const [changed, unread] = await Promise.all([
    notificationsChangedSince(db, userId, Math.max(0, from - LOOKBACK_MS)),
    unreadCount(db, userId),
  ]);
  let cursor = from;
  const notifications: NotificationView[] = [];
  for (const { changedAt, ...n } of changed) {
    notifications.push(n);
    cursor = Math.max(cursor, changedAt);
  }
  return { cursor, unread, notifications };
}

/**
 * A person's notifications as they change: the unread count first, then a frame whenever it changes
 * or a notification of theirs is new, updated (progress), or marked read elsewhere. The database is
 * polled (it is the truth, written by every instance); this process's `notifications` events for
 * the person only wake the poll early. A row is sent again only if it differs from what was sent.
 */
export async function* watchNotifications(
  db: Db,
  userId: string,
  { after, signal, pollMs = 1000 }: WatchNotificationsOptions,
): AsyncGenerator<NotificationChanges> {
  const wakeUp = wakeable(signal);
  const unsubscribe = onNotificationsChanged((change) => {
    if (change.userIds.includes(userId)) wakeUp.wake();
  });
  const unfollow = followOtherInstances(db);
  try {
    let cursor = after ?? Date.now();
    // What was last sent for each notification changed inside the lookback window.
    const sent = new Map<string, number>();
    if (after === undefined) {
      // A fresh watcher starts from now: what changed just before is known, not news.
      for (const n of await notificationsChangedSince(db, userId, cursor - LOOKBACK_MS)) sent.set(n.id, n.changedAt);
    }
    let unread = -1;
    while (!signal.aborted) {
      const since = Math.max(0, cursor - LOOKBACK_MS);
      const [changed, count] = await Promise.all([
        notificationsChangedSince(db, userId, since),
        unreadCount(db, userId),
      ]);
      const fresh: NotificationView[] = [];
      for (const { changedAt, ...n } of changed) {
        if (sent.get(n.id) !== changedAt) fresh.push(n);
        sent.set(n.id, changedAt);
        cursor = Math.max(cursor, changedAt);
      }
      const horizon = cursor - LOOKBACK_MS;
      for (const n of changed) if (n.changedAt < horizon) sent.delete(n.id);
      if (fresh.length > 0 || count !== unread) {
        unread = count;
        yield { cursor, unread, notifications: fresh };
      }
      await wakeUp.sleep(pollMs);
    }
  } finally {
    unfollow();
    unsubscribe();
  }
}
