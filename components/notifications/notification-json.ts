import type { NotificationKind } from "@/db/schema";

/** A notification as GET /api/notifications and the stream send it (dates as ISO strings). */
export interface NotificationJson {
  id: string;
  kind: NotificationKind;
  urgency: "low" | "normal" | "high";
  projectId: string;
  projectName: string;
  taskId: string | null;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  readAt: string | null;
}

/** One frame of /api/notifications/stream. */
export interface NotificationFrame {
  cursor: number;
  unread: number;
  notifications: NotificationJson[];
}

export const KIND_LABELS: Record<NotificationKind, string> = {
  needs_input: "Needs input",
  task_completed: "Task completed",
  task_failed: "Task failed",
  pr_opened: "PR opened",
  pr_merged: "PR merged",
  progress: "Progress",
};

/** Where a notification takes its reader: its task, or its project when it has none. */
export function notificationHref(n: Pick<NotificationJson, "projectId" | "taskId">): string {
  const project = `/projects/${encodeURIComponent(n.projectId)}`;
  return n.taskId ? `${project}/tasks/${encodeURIComponent(n.taskId)}` : project;
}

/** The newest-first list with `changed` put in (a changed one replaces its old copy). */
export function mergeNotifications(list: NotificationJson[], changed: NotificationJson[]): NotificationJson[] {
  const byId = new Map(list.map((n) => [n.id, n]));
  for (const n of changed) byId.set(n.id, n);
  return [...byId.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

/** Marks notifications read on the server; the count of those that were unread. */
export async function markRead(body: { ids: string[] } | { all: true }): Promise<number> {
  const res = await fetch("/api/notifications/read", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    // A click that marks one read also navigates away: the request must outlive the page.
    keepalive: true,
  });
  if (!res.ok) throw new Error(`Marking read failed (${res.status})`);
  return ((await res.json()) as { marked: number }).marked;
}
