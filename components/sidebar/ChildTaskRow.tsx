import Link from "next/link";
import { TaskStatusBadge } from "@/components/tasks/TaskStatusBadge";
import { WaitingOnSubtasks } from "@/components/tasks/WaitingOnSubtasks";
import type { SidebarChild } from "@/lib/sidebar/types";
import { BlockedBadge } from "./BlockedBadge";
import { SubCountBadge } from "./SubCountBadge";

/** One child of an expanded group: its status, what blocks it, why it failed, its own subtasks. */
export function ChildTaskRow({
  projectId,
  child,
  current,
}: {
  projectId: string;
  child: SidebarChild;
  current: boolean;
}) {
  const blocked = child.blockedByTitles.length > 0;
  return (
    <li data-testid="child-task" data-task-id={child.id} data-status={child.status} data-blocked={blocked}>
      <Link
        href={`/projects/${projectId}/tasks/${child.id}`}
        aria-current={current ? "page" : undefined}
        className={`block rounded-md px-2 py-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800 ${current ? "bg-zinc-100 dark:bg-zinc-800" : ""}`}
      >
        <span className="flex items-center gap-2">
          <span className="min-w-0 flex-1 truncate text-sm">{child.title}</span>
          <SubCountBadge count={child.subCount} />
          <TaskStatusBadge status={child.status} blocked={blocked} />
        </span>
        {blocked ? (
          <span className="mt-1 flex">
            <BlockedBadge titles={child.blockedByTitles} />
          </span>
        ) : null}
        {child.waitingOn > 0 ? (
          <span className="mt-0.5 flex">
            <WaitingOnSubtasks count={child.waitingOn} />
          </span>
        ) : null}
        {child.status === "failed" && child.failureReason ? (
          <span className="mt-0.5 block truncate text-xs text-red-700 dark:text-red-400">{child.failureReason}</span>
        ) : null}
      </Link>
    </li>
  );
}
