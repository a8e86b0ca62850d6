"use client";

import Link from "next/link";
import { BrowserNotificationSettings } from "./BrowserNotificationSettings";
import { NotificationItem } from "./NotificationItem";
import type { NotificationJson } from "./notification-json";

interface Props {
  id: string;
  /** Null while the list loads. */
  items: NotificationJson[] | null;
  error: string | null;
  onOpenItem: (n: NotificationJson) => void;
  onMarkAllRead: () => void;
  onClose: () => void;
}

/** The bell's panel: the person's latest notifications, "Mark all read", and where to change what they get. */
export function NotificationList({ id, items, error, onOpenItem, onMarkAllRead, onClose }: Props) {
  const anyUnread = items?.some((n) => n.readAt === null) ?? false;
  return (
    <section
      id={id}
      aria-label="Notifications"
      data-testid="notification-list"
      className="fixed inset-x-2 top-14 z-40 flex max-h-[75vh] flex-col rounded-lg border border-zinc-200 bg-white shadow-lg sm:absolute sm:inset-x-auto sm:top-full sm:right-0 sm:mt-2 sm:w-96 dark:border-zinc-800 dark:bg-zinc-950"
    >
      <div className="flex items-center justify-between gap-2 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <h2 className="text-sm font-medium">Notifications</h2>
        <button
          type="button"
          onClick={onMarkAllRead}
          disabled={!anyUnread}
          className="rounded-md px-2 py-1 text-xs hover:bg-zinc-100 disabled:text-zinc-500 disabled:hover:bg-transparent dark:hover:bg-zinc-900"
        >
          Mark all read
        </button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto">
        {error ? (
          <p role="alert" className="px-3 py-4 text-sm text-red-700 dark:text-red-400">
            {error}
          </p>
        ) : items === null ? (
          <p className="px-3 py-4 text-sm text-zinc-600 dark:text-zinc-400">Loading…</p>
        ) : items.length === 0 ? (
          <p className="px-3 py-4 text-sm text-zinc-600 dark:text-zinc-400">No notifications yet.</p>
        ) : (
          <ul className="divide-y divide-zinc-100 dark:divide-zinc-900">
            {items.map((n) => (
              <NotificationItem key={n.id} notification={n} onOpen={() => onOpenItem(n)} />
            ))}
          </ul>
        )}
      </div>
      <div className="flex flex-wrap items-center justify-between gap-2 border-t border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <BrowserNotificationSettings />
        <Link href="/account/notifications" onClick={onClose} className="ml-auto text-xs underline">
          Preferences
        </Link>
      </div>
    </section>
  );
}
