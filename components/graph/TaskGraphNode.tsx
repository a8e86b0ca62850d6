import type { Node, NodeProps } from "@xyflow/react";
import { statusLabel, statusStyle } from "@/components/tasks/TaskStatusBadge";
import type { GraphTask } from "@/lib/graph/types";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout-tree";

export type TaskGraphNodeData = { task: GraphTask; href: string; focused: boolean };
export type TaskNode = Node<TaskGraphNodeData, "task">;

const PR_STYLE = {
  open: "border-emerald-600 text-emerald-800 dark:text-emerald-300",
  merged: "border-violet-600 text-violet-800 dark:text-violet-300",
  closed: "border-zinc-500 text-zinc-600 dark:text-zinc-400",
} as const;

/** A task as a card coloured by its status, with its agent and pull request; a click opens the task (see TaskGraph). */
export function TaskGraphNode({ data }: NodeProps<TaskNode>) {
  const { task, href, focused } = data;
  const status = statusLabel(task.status, task.blocked);
  return (
    // A plain link (the graph's one click handler opens it in the app): 500 Link components would
    // cost the graph's first paint, and prefetch 500 task pages.
    <a
      href={href}
      // A drag that starts on a card pans the graph rather than dragging the link away.
      draggable={false}
      aria-label={`${task.title}, ${status}`}
      data-testid="graph-node"
      data-task-id={task.id}
      data-status={task.status}
      data-blocked={task.blocked ? "true" : "false"}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      className={`flex flex-col gap-1 overflow-hidden rounded-lg border border-black/10 px-2.5 py-2 text-left shadow-sm hover:shadow-md focus-visible:outline-2 focus-visible:outline-blue-600 dark:border-white/10 ${statusStyle(task.status, task.blocked)} ${focused ? "ring-2 ring-blue-600 ring-offset-1 dark:ring-blue-400" : ""}`}
    >
      <span className="flex items-center gap-1.5 text-[11px] font-semibold uppercase tracking-wide">
        <span>{status}</span>
        {task.activeChildren > 0 ? (
          <span className="font-normal normal-case opacity-80">· {task.activeChildren} active</span>
        ) : null}
        {task.pr ? (
          <span
            data-testid="graph-node-pr"
            className={`ml-auto rounded border bg-white/70 px-1 font-medium normal-case dark:bg-black/30 ${PR_STYLE[task.pr.state]}`}
          >
            PR #{task.pr.number} {task.pr.state}
          </span>
        ) : null}
      </span>
      <span className="line-clamp-2 text-sm leading-snug font-medium">{task.title}</span>
      <span className="mt-auto truncate text-[11px] opacity-75">
        {task.harness} · {task.model}
      </span>
    </a>
  );
}
