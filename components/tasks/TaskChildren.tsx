import Link from "next/link";
import { TaskStatusBadge } from "./TaskStatusBadge";
import type { TaskJson } from "./task-json";

/**
 * A task's subtasks in the order they were dispatched, each with the siblings it waits on and
 * whether that wait is over: the dependency edges among them, read from the child's side.
 */
export function TaskChildren({ projectId, items }: { projectId: string; items: TaskJson["children"] }) {
  const byId = new Map(items.map((child) => [child.id, child]));
  return (
    <ul className="space-y-3">
      {items.map((child) => (
        <li key={child.id} data-testid="task-child" data-task-id={child.id} className="text-sm">
          <div className="flex flex-wrap items-center gap-2">
            <Link href={`/projects/${projectId}/tasks/${child.id}`} className="min-w-0 truncate underline">
              {child.title}
            </Link>
            <span className="ml-auto">
              <TaskStatusBadge status={child.status} blocked={child.blockedByTitles.length > 0} />
            </span>
          </div>
          {child.blockedByTitles.length > 0 ? (
            <p className="mt-0.5 text-xs font-medium text-amber-700 dark:text-amber-400">
              BLOCKED: Waiting on {child.blockedByTitles.join(", ")}
            </p>
          ) : null}
          {child.dependsOn.length > 0 ? (
            <ul
              aria-label={`${child.title} waits on`}
              className="mt-1 space-y-0.5 pl-3 text-xs text-zinc-600 dark:text-zinc-400"
            >
              {child.dependsOn.map((id) => {
                const dependency = byId.get(id);
                return (
                  <li key={id} data-testid="child-dependency" data-depends-on={id}>
                    waits on{" "}
                    <Link href={`/projects/${projectId}/tasks/${id}`} className="underline">
                      {dependency?.title ?? id}
                    </Link>
                    {dependency ? ` (${dependency.status.replace("_", " ")})` : ""}
                  </li>
                );
              })}
            </ul>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
