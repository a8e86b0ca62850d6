"use client";

import Link from "next/link";
import { RelativeTime } from "@/components/sidebar/RelativeTime";
import { KIND_LABELS, type NotificationJson, notificationHref } from "./notification-json";

/** One notification in the list: what happened, where, when; a dot while it is unread. Opens its task. */
export function NotificationItem({ notification: n, onOpen }: { notification: NotificationJson; onOpen: () => void }) {
  const unread = n.readAt === null;
  return (
    <li data-testid="notification-item" data-notification-id={n.id} data-unread={unread ? "true" : "false"}>
      <Link
        href={notificationHref(n)}
        onClick={onOpen}
        className="flex gap-2 px-3 py-2 hover:bg-zinc-50 focus-visible:bg-zinc-50 dark:hover:bg-zinc-900 dark:focus-visible:bg-zinc-900"
      >
        <span
          aria-hidden
          className={`mt-1.5 size-2 shrink-0 rounded-full ${unread ? "bg-blue-600" : "bg-transparent"}`}
        />
        <span className="min-w-0 flex-1">
          <span data-testid="notification-title" className={`block truncate text-sm ${unread ? "font-semibold" : ""}`}>
            {unread ? <span className="sr-only">Unread: </span> : null}
            {n.title}
          </span>
          {n.body ? (
            <span className="line-clamp-2 block text-xs text-zinc-700 dark:text-zinc-300">{n.body}</span>
          ) : null}
          <span className="mt-0.5 block truncate text-xs text-zinc-600 dark:text-zinc-400">
            {n.projectName} · {KIND_LABELS[n.kind]} · <RelativeTime at={Date.parse(n.updatedAt)} />
          </span>
        </span>
      </Link>
    </li>
  );
}
