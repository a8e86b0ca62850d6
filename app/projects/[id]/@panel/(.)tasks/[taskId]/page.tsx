import { requireUser } from "@/app/current-user";
import { TaskPanel } from "@/components/shell/TaskPanel";
import { TaskLiveView } from "@/components/tasks/TaskLiveView";
import { loadTaskView } from "../../../(workspace)/tasks/load-task";

/**
 * A task opened from inside the project (a sidebar row, a subtask in the chat) shows in the right
 * panel beside the page it was opened from; its URL, loaded afresh, is the task's full page.
 */
export default async function TaskPanelPage({ params }: { params: Promise<{ id: string; taskId: string }> }) {
  const user = await requireUser();
  const { id, taskId } = await params;
  const { project, task, liveView } = await loadTaskView(user.id, id, taskId);
  return (
    <TaskPanel
      title={task.title}
      fullPage={`/projects/${project.id}/tasks/${task.id}`}
      graph={`/projects/${project.id}/tasks/${task.id}/graph`}
    >
      <TaskLiveView key={task.id} {...liveView} />
    </TaskPanel>
  );
}
