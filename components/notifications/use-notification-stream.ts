import { useEffect, useRef, useState } from "react";
import type { NotificationFrame, NotificationJson } from "./notification-json";

/**
 * The person's unread count, kept current by /api/notifications/stream, and each batch of new or
 * changed notifications handed to `onChanged`. The browser resumes a dropped connection after the
 * last frame it got (Last-Event-ID); a notification seen again with the same update is not handed on.
 */
export function useNotificationStream(onChanged: (changed: NotificationJson[], fresh: NotificationJson[]) => void) {
  const [unread, setUnread] = useState<number | null>(null);
  const handler = useRef(onChanged);
  handler.current = onChanged;

  useEffect(() => {
    const seen = new Set<string>();
    const source = new EventSource("/api/notifications/stream");
    source.addEventListener("notifications", (e) => {
      const frame = JSON.parse(e.data) as NotificationFrame;
      setUnread(frame.unread);
      if (frame.notifications.length === 0) return;
      // Fresh: unread and not handed on before at this update (a resumed stream may repeat a frame).
      const fresh = frame.notifications.filter((n) => {
        const key = `${n.id}@${n.updatedAt}`;
        if (n.readAt !== null || seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      handler.current(frame.notifications, fresh);
    });
    return () => source.close();
  }, []);

  return { unread, setUnread };
}
