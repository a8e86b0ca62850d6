"use client";

import { useState } from "react";
import type { NotificationKind } from "@/db/schema";
import { KIND_LABELS } from "./notification-json";

export interface ProjectPrefsJson {
  projectId: string;
  projectName: string;
  kinds: Record<NotificationKind, boolean>;
}

interface Props {
  kinds: readonly NotificationKind[];
  projects: ProjectPrefsJson[];
}

/**
 * Which notifications the person gets, a switch per project and kind. Each change is saved at once
 * (PUT /api/notifications/prefs); one that fails is put back and the reason shown.
 */
export function NotificationPrefsGrid({ kinds, projects: initial }: Props) {
  const [projects, setProjects] = useState(initial);
  const [status, setStatus] = useState<{ error: boolean; text: string } | null>(null);

  const set = (projectId: string, kind: NotificationKind, enabled: boolean) =>
    setProjects((prev) =>
      prev.map((p) => (p.projectId === projectId ? { ...p, kinds: { ...p.kinds, [kind]: enabled } } : p)),
    );

  async function toggle(p: ProjectPrefsJson, kind: NotificationKind, enabled: boolean) {
    set(p.projectId, kind, enabled);
    setStatus(null);
    const what = `${KIND_LABELS[kind]} from ${p.projectName}`;
    try {
      const res = await fetch("/api/notifications/prefs", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prefs: [{ projectId: p.projectId, kind, enabled }] }),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
        throw new Error(body?.error?.message ?? `status ${res.status}`);
      }
      setStatus({ error: false, text: `${what}: ${enabled ? "on" : "off"}.` });
    } catch (err) {
      set(p.projectId, kind, !enabled);
      setStatus({ error: true, text: `Could not save ${what}: ${(err as Error).message}` });
    }
  }

  if (projects.length === 0) {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">You are not a member of any project yet.</p>;
  }
  return (
    <div className="space-y-2">
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" aria-label="Notifications by project and kind">
          <thead className="text-xs text-zinc-600 dark:text-zinc-400">
            <tr>
              <th scope="col" className="py-1 pr-2 font-normal">
                Project
              </th>
              {kinds.map((k) => (
                <th key={k} scope="col" className="px-1 py-1 text-center font-normal">
                  {KIND_LABELS[k]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {projects.map((p) => (
              <tr key={p.projectId} data-testid="prefs-row" data-project-id={p.projectId}>
                <th scope="row" className="max-w-40 truncate py-2 pr-2 font-normal">
                  {p.projectName}
                </th>
                {kinds.map((k) => (
                  <td key={k} className="px-1 py-2 text-center">
                    <input
                      type="checkbox"
                      className="size-4"
                      aria-label={`${KIND_LABELS[k]} from ${p.projectName}`}
                      checked={p.kinds[k]}
                      onChange={(e) => toggle(p, k, e.target.checked)}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p
        aria-live="polite"
        data-testid="prefs-status"
        className={`min-h-5 text-sm ${status?.error ? "text-red-700 dark:text-red-400" : "text-zinc-600 dark:text-zinc-400"}`}
      >
        {status?.text}
      </p>
    </div>
  );
}
