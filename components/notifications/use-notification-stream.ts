import { useEffect, useRef, useState } from "react";
import type { NotificationFrame, NotificationJson } from "./notification-json";

const LOCK = "sam-notification-poll";
const CHANNEL = "sam-notifications";
const POLL_MS = 1000;

type ChannelMessage = { type: "frame"; frame: NotificationFrame } | { type: "hello" };

/**
 * The person's unread count, kept current by polling /api/notifications/changes, and each batch of
 * new or changed notifications handed to `onChanged` (a notification seen again with the same
 * update is not handed on).
 *
 * A poll, not a stream: a browser keeps only six connections open to a server over HTTP/1.1, and
 * every tab already streams its sidebar, its task and its chat, so a seventh kept open by the bell
 * stalls the tab's own requests. One tab polls for all of the browser's tabs (a Web Lock elects it;
 * the next tab takes over when it closes) and passes its frames on over a BroadcastChannel; only that
 * tab hands on `fresh` notifications, so a browser notification is shown once.
 */
export function useNotificationStream(onChanged: (changed: NotificationJson[], fresh: NotificationJson[]) => void) {
  const [unread, setUnread] = useState<number | null>(null);
  const handler = useRef(onChanged);
  handler.current = onChanged;

  useEffect(() => {
    const seen = new Set<string>();
    let closed = false;
    let last: NotificationFrame | undefined;
    let release: (() => void) | undefined;
    const shared = typeof BroadcastChannel !== "undefined" && typeof navigator.locks?.request === "function";
    const channel = shared ? new BroadcastChannel(CHANNEL) : undefined;

    /** `known`: the first look, whose notifications changed before the tab opened: none is news. */
    const take = (frame: NotificationFrame, leading: boolean, known = false) => {
      setUnread(frame.unread);
      if (frame.notifications.length === 0) return;
      const fresh = frame.notifications.filter((n) => {
        const key = `${n.id}@${n.updatedAt}`;
        if (n.readAt !== null || seen.has(key)) return false;
        seen.add(key);
        return !known;
      });
      handler.current(frame.notifications, leading ? fresh : []);
    };

    /** Polls until the tab closes; each answer that changes something is taken and passed on. */
    const lead = () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let polling = false;
      const poll = async () => {
        if (closed || polling) return;
        polling = true;
        clearTimeout(timer);
        try {
          const query = last === undefined ? "" : `?after=${last.cursor}`;
          const res = await fetch(`/api/notifications/changes${query}`, { cache: "no-store" }).catch(() => null);
          if (res?.ok) {
            const frame = (await res.json()) as NotificationFrame;
            const first = last === undefined;
            const changed = first || frame.unread !== last?.unread || frame.notifications.length > 0;
            last = { ...frame, notifications: [] };
            if (changed && !closed) {
              take(frame, true, first);
              channel?.postMessage({ type: "frame", frame } satisfies ChannelMessage);
            }
          }
        } finally {
          polling = false;
          if (!closed) timer = setTimeout(() => void poll(), POLL_MS);
        }
      };
      // Back to the tab: look at once rather than at the next tick.
      const now = () => void poll();
      window.addEventListener("focus", now);
      document.addEventListener("visibilitychange", now);
      void poll();
      return () => {
        clearTimeout(timer);
        window.removeEventListener("focus", now);
        document.removeEventListener("visibilitychange", now);
      };
    };

    let stopLeading: (() => void) | undefined;
    if (channel) {
      channel.onmessage = (e: MessageEvent<ChannelMessage>) => {
        if (e.data.type === "frame") take(e.data.frame, false);
        // A tab that just opened asks for the count; the polling tab knows it.
        else if (stopLeading && last) channel.postMessage({ type: "frame", frame: last } satisfies ChannelMessage);
      };
      channel.postMessage({ type: "hello" } satisfies ChannelMessage);
      void navigator.locks.request(LOCK, () => {
        if (closed) return;
        stopLeading = lead();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      });
    } else {
      stopLeading = lead();
    }

    return () => {
      closed = true;
      stopLeading?.();
      release?.();
      channel?.close();
    };
  }, []);

  return { unread, setUnread };
}
