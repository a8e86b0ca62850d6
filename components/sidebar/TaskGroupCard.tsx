"use client";

import Link from "next/link";
import { useState } from "react";
import { TaskStatusBadge } from "@/components/tasks/TaskStatusBadge";
import { WaitingOnSubtasks } from "@/components/tasks/WaitingOnSubtasks";
import type { SidebarGroup } from "@/lib/sidebar/types";
import { formatCost, formatTokens } from "@/lib/usage/format";
import { ChildTaskRow } from "./ChildTaskRow";
import { GroupProgress } from "./GroupProgress";
import { RelativeTime } from "./RelativeTime";
import { SubCountBadge } from "./SubCountBadge";

/** The accent strip says at a glance what needs attention: failed, then blocked, then running work. */
function accentOf(group: SidebarGroup): { strip: string; state: string } {
  if (group.flags.failed || group.status === "failed") return { strip: "bg-red-500", state: "failed" };
  if (group.flags.blocked) return { strip: "bg-orange-500", state: "blocked" };
  if (group.flags.active) return { strip: "bg-blue-500", state: "active" };
  if (group.status === "completed") return { strip: "bg-emerald-500", state: "done" };
  return { strip: "bg-zinc-400 dark:bg-zinc-600", state: "ended" };
}

/**
 * A root task (one session) as a card: its title linking to the session, its status, and when it
 * dispatched subtasks, their count, progress and, expanded, each child with its status.
 */
export function TaskGroupCard({
  projectId,
  group,
  currentPath,
}: {
  projectId: string;
  group: SidebarGroup;
  currentPath: string;
}) {
  const [expanded, setExpanded] = useState(false);
  const accent = accentOf(group);
  const href = group.sessionId
    ? `/projects/${projectId}/sessions/${group.sessionId}`
    : `/projects/${projectId}/tasks/${group.id}`;
  const childListId = `children-${group.id}`;
  const blockedChildren = group.children.filter((c) => c.blockedByTitles.length > 0).length;
  const failedChildren = group.childStatusCounts.failed ?? 0;
  return (
    <li
      data-testid="task-group"
      data-task-id={group.id}
      data-state={accent.state}
      className="relative overflow-hidden rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900"
    >
      <span aria-hidden className={`absolute inset-y-0 left-0 w-1 ${accent.strip}`} />
      <div className="space-y-1.5 py-2 pr-2 pl-3">
        <div className="flex items-center gap-2">
          <Link
            href={href}
            aria-current={currentPath === href ? "page" : undefined}
            className="min-w-0 flex-1 truncate text-sm font-medium hover:underline aria-[current=page]:text-blue-700 dark:aria-[current=page]:text-blue-300"
          >
            {group.title}
          </Link>
          <SubCountBadge count={group.childCount} />
          <TaskStatusBadge status={group.status} />
        </div>
        <div className="flex items-center gap-2 text-[11px] text-zinc-600 dark:text-zinc-400">
          <span>{group.mode === "conversation" ? "Conversation" : "Task"}</span>
          <span className="shrink-0 whitespace-nowrap">
            <RelativeTime at={group.updatedAt} />
          </span>
          <span className="shrink-0 font-mono" title={group.id}>
            {group.id.slice(0, 8)}
          </span>
          {/* A conversation saves and pushes nothing: it shows no branch. */}
          {group.mode === "task" && group.branch ? (
            <span data-testid="task-group-branch" className="min-w-0 truncate font-mono">
              {group.branch}
            </span>
          ) : null}
          <WaitingOnSubtasks count={group.waitingOn} />
          {blockedChildren > 0 ? (
            <span className="shrink-0 font-semibold text-orange-700 dark:text-orange-400">
              {blockedChildren} blocked
            </span>
          ) : null}
          {failedChildren > 0 ? (
            <span className="shrink-0 font-semibold text-red-700 dark:text-red-400">{failedChildren} failed</span>
          ) : null}
        </div>
        {group.usage ? (
          <p
            data-testid="task-group-usage"
            title={`Tokens and cost of this task and all its subtasks: ${formatCost(group.usage)}`}
            className="truncate text-[11px] text-zinc-600 dark:text-zinc-400"
          >
            {formatTokens(group.usage.inputTokens + group.usage.outputTokens)} tokens ·{" "}
            {group.usage.costUsd === null ? "no price" : formatCost(group.usage)}
          </p>
        ) : null}
        {group.status === "failed" && group.failureReason ? (
          <p className="truncate text-xs text-red-700 dark:text-red-400">{group.failureReason}</p>
        ) : null}
        {group.childCount > 0 ? (
          <>
            <GroupProgress
              completed={group.progress.completed}
              total={group.progress.total}
              failed={group.flags.failed}
            />
            <button
              type="button"
              aria-expanded={expanded}
              aria-controls={childListId}
              onClick={() => setExpanded((e) => !e)}
              className="text-xs font-medium text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
            >
              {expanded ? "Hide subtasks" : `Show ${group.childCount} subtask${group.childCount === 1 ? "" : "s"}`}
            </button>
            {expanded ? (
              <ul id={childListId} aria-label={`Subtasks of ${group.title}`} className="-mx-1 space-y-0.5">
                {group.children.map((child) => (
                  <ChildTaskRow
                    key={child.id}
                    projectId={projectId}
                    child={child}
                    current={currentPath === `/projects/${projectId}/tasks/${child.id}`}
                  />
                ))}
              </ul>
            ) : null}
          </>
        ) : null}
      </div>
    </li>
  );
}
