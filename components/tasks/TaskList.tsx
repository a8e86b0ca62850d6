import Link from "next/link";
import type { TaskMode, TaskStatus } from "@/db/schema";
import { TaskStatusBadge } from "./TaskStatusBadge";

export interface TaskListItem {
  id: string;
  title: string;
  status: TaskStatus;
  mode: TaskMode;
  parentId: string | null;
  branch: string | null;
}

/** A project's tasks, newest first, each linking to its page. */
export function TaskList({ projectId, tasks }: { projectId: string; tasks: TaskListItem[] }) {
  if (tasks.length === 0) {
    return (
      <p className="rounded-lg border border-dashed border-zinc-300 p-6 text-center text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
        No tasks yet. Describe what an agent should do to start one.
      </p>
    );
  }
  return (
    <ul
      className="divide-y divide-zinc-200 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800"
      data-testid="task-list"
    >
      {tasks.map((t) => (
        <li key={t.id}>
          <Link
            href={`/projects/${projectId}/tasks/${t.id}`}
            className="block px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-900"
          >
            <div className="flex items-center gap-2">
              <span className="min-w-0 truncate font-medium">{t.title}</span>
              <span className="ml-auto">
                <TaskStatusBadge status={t.status} />
              </span>
            </div>
            <div className="mt-0.5 flex gap-2 truncate text-xs text-zinc-500">
              <span>{t.mode}</span>
              {t.parentId ? <span>· subtask</span> : null}
              {t.branch ? <span className="truncate font-mono">· {t.branch}</span> : null}
            </div>
          </Link>
        </li>
      ))}
    </ul>
  );
}
