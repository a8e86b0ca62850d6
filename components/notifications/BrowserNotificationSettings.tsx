"use client";

import { useEffect, useState } from "react";
import {
  type BrowserPermission,
  browserPermission,
  setShowsAllUrgencies,
  showsAllUrgencies,
} from "./browser-notifications";

/**
 * Whether this browser shows notifications while SAM is open: a button that asks for permission,
 * then a choice between questions only (high urgency) and every kind. Stored in this browser only.
 */
export function BrowserNotificationSettings() {
  // Known only in the browser: the server's render (and hydration) shows nothing.
  const [permission, setPermission] = useState<BrowserPermission>("unsupported");
  const [all, setAll] = useState(false);
  useEffect(() => {
    setPermission(browserPermission());
    setAll(showsAllUrgencies());
  }, []);

  if (permission === "unsupported") return null;
  if (permission === "default") {
    return (
      <button
        type="button"
        onClick={async () => setPermission(await Notification.requestPermission())}
        className="rounded-md border border-zinc-300 px-2 py-1 text-xs hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-900"
      >
        Show browser notifications
      </button>
    );
  }
  if (permission === "denied") {
    return (
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        Browser notifications are blocked for this site in the browser's settings.
      </p>
    );
  }
  return (
    <label className="flex items-center gap-2 text-xs">
      <input
        type="checkbox"
        checked={all}
        onChange={(e) => {
          setAll(e.target.checked);
          setShowsAllUrgencies(e.target.checked);
        }}
        className="size-4"
      />
      Browser notifications for every kind, not only questions
    </label>
  );
}
