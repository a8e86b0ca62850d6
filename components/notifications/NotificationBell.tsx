"use client";

import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";
import { showBrowserNotification } from "./browser-notifications";
import { NotificationList } from "./NotificationList";
import { markRead, mergeNotifications, type NotificationJson, notificationHref } from "./notification-json";
import { useNotificationStream } from "./use-notification-stream";

const LIST_SIZE = 30;

/**
 * The header's bell: the unread count, live; a click opens the latest notifications. While the app
 * is open, a notification that arrives is also shown by the browser, if the person allowed it.
 */
export function NotificationBell() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<NotificationJson[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Changes that arrive while the list loads, put on top of it once it is in.
  const arrivedWhileLoading = useRef<NotificationJson[] | null>(null);
  const { unread, setUnread } = useNotificationStream((changed, fresh) => {
    arrivedWhileLoading.current?.push(...changed);
    setItems((prev) => (prev ? mergeNotifications(prev, changed).slice(0, LIST_SIZE) : prev));
    for (const n of fresh) showBrowserNotification(n, (href) => router.push(href), notificationHref(n));
  });
  const panelId = useId();
  const wrapper = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    let cancelled = false;
    setError(null);
    // Loaded afresh on each opening: what the list showed before may be stale.
    setItems(null);
    arrivedWhileLoading.current = [];
    fetch(`/api/notifications?limit=${LIST_SIZE}`)
      .then(async (res) => {
        if (!res.ok) throw new Error(`Could not load notifications (${res.status})`);
        const list = (await res.json()) as NotificationJson[];
        if (cancelled) return;
        setItems(mergeNotifications(list, arrivedWhileLoading.current ?? []).slice(0, LIST_SIZE));
        arrivedWhileLoading.current = null;
      })
      .catch((err: Error) => {
        if (!cancelled) setError(err.message);
      });
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    const onPointer = (e: PointerEvent) => {
      if (!wrapper.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      cancelled = true;
      arrivedWhileLoading.current = null;
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  const readLocally = (isRead: (n: NotificationJson) => boolean) => {
    const at = new Date().toISOString();
    setItems((prev) => prev?.map((n) => (n.readAt === null && isRead(n) ? { ...n, readAt: at } : n)) ?? prev);
  };

  const openItem = (n: NotificationJson) => {
    setOpen(false);
    if (n.readAt !== null) return;
    readLocally((m) => m.id === n.id);
    setUnread((u) => (u === null ? u : Math.max(0, u - 1)));
    markRead({ ids: [n.id] }).catch((err: Error) => setError(err.message));
  };

  const markAllRead = () => {
    readLocally(() => true);
    setUnread(0);
    markRead({ all: true }).catch((err: Error) => setError(err.message));
  };

  const count = unread ?? 0;
  return (
    <div ref={wrapper} className="relative">
      <button
        ref={button}
        type="button"
        data-testid="notification-bell"
        aria-label={count > 0 ? `Notifications, ${count} unread` : "Notifications"}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        onClick={() => setOpen(!open)}
        className="relative rounded-md p-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-900"
      >
        <svg aria-hidden viewBox="0 0 20 20" className="size-5" fill="none" stroke="currentColor" strokeWidth="1.6">
          <path d="M10 2.5a5 5 0 0 0-5 5v3.2L3.5 13.5h13L15 10.7V7.5a5 5 0 0 0-5-5Z" strokeLinejoin="round" />
          <path d="M8 16a2 2 0 0 0 4 0" strokeLinecap="round" />
        </svg>
        {count > 0 ? (
          <span
            aria-hidden
            data-testid="unread-count"
            className="absolute -top-0.5 -right-0.5 min-w-4 rounded-full bg-red-700 px-1 text-center text-[10px] leading-4 font-semibold text-white"
          >
            {count > 99 ? "99+" : count}
          </span>
        ) : null}
      </button>
      {open ? (
        <NotificationList
          id={panelId}
          items={items}
          error={error}
          onOpenItem={openItem}
          onMarkAllRead={markAllRead}
          onClose={() => setOpen(false)}
        />
      ) : null}
    </div>
  );
}
