import { useEffect, useRef, useState } from "react";
import type { NotificationFrame, NotificationJson } from "./notification-json";

const LOCK = "sam-notification-stream";
const CHANNEL = "sam-notifications";

type ChannelMessage = { type: "frame"; frame: NotificationFrame } | { type: "hello" };

/**
 * The person's unread count, kept current by /api/notifications/stream, and each batch of new or
 * changed notifications handed to `onChanged`. The browser resumes a dropped connection after the
 * last frame it got (Last-Event-ID); a notification seen again with the same update is not handed on.
 *
 * One tab holds the stream for all of the browser's tabs (a Web Lock elects it; the next tab takes
 * over when it closes) and passes its frames on over a BroadcastChannel: a browser keeps only six
 * connections open to a server over HTTP/1.1, and every tab already streams its sidebar and task.
 * Only that tab hands on `fresh` notifications, so a browser notification is shown once.
 */
export function useNotificationStream(onChanged: (changed: NotificationJson[], fresh: NotificationJson[]) => void) {
  const [unread, setUnread] = useState<number | null>(null);
  const handler = useRef(onChanged);
  handler.current = onChanged;

  useEffect(() => {
    const seen = new Set<string>();
    let closed = false;
    let source: EventSource | undefined;
    let last: NotificationFrame | undefined;
    let release: (() => void) | undefined;
    const shared = typeof BroadcastChannel !== "undefined" && typeof navigator.locks?.request === "function";
    const channel = shared ? new BroadcastChannel(CHANNEL) : undefined;

    const take = (frame: NotificationFrame, leading: boolean) => {
      setUnread(frame.unread);
      if (frame.notifications.length === 0) return;
      // Fresh: unread and not handed on before at this update (a resumed stream may repeat a frame).
      const fresh = frame.notifications.filter((n) => {
        const key = `${n.id}@${n.updatedAt}`;
        if (n.readAt !== null || seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      handler.current(frame.notifications, leading ? fresh : []);
    };

    const lead = () => {
      source = new EventSource("/api/notifications/stream");
      source.addEventListener("notifications", (e) => {
        const frame = JSON.parse(e.data) as NotificationFrame;
        last = { ...frame, notifications: [] };
        take(frame, true);
        channel?.postMessage({ type: "frame", frame } satisfies ChannelMessage);
      });
    };

    if (channel) {
      channel.onmessage = (e: MessageEvent<ChannelMessage>) => {
        if (e.data.type === "frame") take(e.data.frame, false);
        // A tab that just opened asks for the count; the tab holding the stream knows it.
        else if (source && last) channel.postMessage({ type: "frame", frame: last } satisfies ChannelMessage);
      };
      channel.postMessage({ type: "hello" } satisfies ChannelMessage);
      void navigator.locks.request(LOCK, () => {
        if (closed) return;
        lead();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      });
    } else {
      lead();
    }

    return () => {
      closed = true;
      source?.close();
      release?.();
      channel?.close();
    };
  }, []);

  return { unread, setUnread };
}
