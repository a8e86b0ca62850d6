import { requireUser } from "@/app/current-user";
import { GraphLegend } from "@/components/graph/GraphLegend";
import { layoutTree } from "@/components/graph/layout-tree";
import { TaskGraph } from "@/components/graph/TaskGraph";
import { TaskPanel } from "@/components/shell/TaskPanel";
import { loadTaskGraphOr404 } from "../../../../(workspace)/tasks/load-task-graph";

/** A task's graph opened from inside the project shows in the right panel; its URL, loaded afresh, is the graph's page. */
export default async function TaskGraphPanelPage({ params }: { params: Promise<{ id: string; taskId: string }> }) {
  const user = await requireUser();
  const { id, taskId } = await params;
  const graph = await loadTaskGraphOr404(user.id, id, taskId);
  return (
    <TaskPanel kind="Task graph" title={graph.tasks[0]?.title ?? ""} fullPage={`/projects/${id}/tasks/${taskId}/graph`}>
      <div className="flex h-full min-h-0 flex-col gap-3">
        <GraphLegend />
        <div className="min-h-0 flex-1">
          <TaskGraph key={graph.rootId} initial={graph} initialLayout={layoutTree(graph.tasks)} />
        </div>
      </div>
    </TaskPanel>
  );
}
