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
  const { project, task, details, events } = await loadTaskView(user.id, id, taskId);
  return (
    <TaskPanel title={details.title} fullPage={`/projects/${project.id}/tasks/${task.id}`}>
      <TaskLiveView
        key={task.id}
        projectId={project.id}
        initialTask={details}
        initialEvents={events}
        graceSeconds={project.stopGraceSeconds}
      />
    </TaskPanel>
  );
}
