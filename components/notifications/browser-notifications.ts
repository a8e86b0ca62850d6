import type { NotificationJson } from "./notification-json";

const ALL_URGENCIES_KEY = "sam.browserNotifications.allUrgencies";

export type BrowserPermission = NotificationPermission | "unsupported";

export function browserPermission(): BrowserPermission {
  return typeof window !== "undefined" && "Notification" in window ? Notification.permission : "unsupported";
}

/** This browser's choice: show every notification, or (the default) only the high-urgency ones. */
export function showsAllUrgencies(): boolean {
  try {
    return localStorage.getItem(ALL_URGENCIES_KEY) === "1";
  } catch {
    return false;
  }
}

export function setShowsAllUrgencies(on: boolean): void {
  try {
    if (on) localStorage.setItem(ALL_URGENCIES_KEY, "1");
    else localStorage.removeItem(ALL_URGENCIES_KEY);
  } catch {
    // Storage refused (private mode): the choice lasts as long as the page.
  }
}

/**
 * Shows a notification that just arrived as the browser's own, when the person allowed it: a
 * question always, the rest if they chose to see every kind. Its tag is the notification's id, so
 * an update (progress) replaces the one shown before instead of piling up.
 */
export function showBrowserNotification(n: NotificationJson, open: (href: string) => void, href: string): void {
  if (browserPermission() !== "granted") return;
  if (n.urgency !== "high" && !showsAllUrgencies()) return;
  const shown = new Notification(n.title, { body: `${n.projectName}${n.body ? ` · ${n.body}` : ""}`, tag: n.id });
  shown.onclick = () => {
    window.focus();
    open(href);
    shown.close();
  };
}
