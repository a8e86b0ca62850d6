import { requireUser } from "@/app/current-user";
import { GraphLegend } from "@/components/graph/GraphLegend";
import { layoutTree } from "@/components/graph/layout-tree";
import { TaskGraph } from "@/components/graph/TaskGraph";
import { loadTaskGraphOr404 } from "../../load-task-graph";

/** The live graph of the whole tree the task belongs to, from its root down. */
export default async function TaskGraphPage({ params }: { params: Promise<{ id: string; taskId: string }> }) {
  const user = await requireUser();
  const { id, taskId } = await params;
  const graph = await loadTaskGraphOr404(user.id, id, taskId);
  const root = graph.tasks[0];
  return (
    <div className="flex h-full min-h-0 flex-col gap-3 px-4 py-4">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h1 className="min-w-0 truncate text-lg font-semibold">Task graph: {root?.title}</h1>
        <span className="text-sm text-zinc-600 dark:text-zinc-400">{graph.tasks.length} tasks</span>
        <a
          href={`/projects/${id}/tasks/${graph.focusId}`}
          className="ml-auto text-sm text-zinc-600 underline dark:text-zinc-400"
        >
          Back to the task
        </a>
      </div>
      <GraphLegend />
      <div className="min-h-0 flex-1">
        <TaskGraph key={graph.rootId} initial={graph} initialLayout={layoutTree(graph.tasks)} />
      </div>
    </div>
  );
}
