import Link from "next/link";
import { requireUser } from "@/app/current-user";
import { TaskLiveView } from "@/components/tasks/TaskLiveView";
import { loadTaskView } from "../load-task";

export default async function TaskPage({ params }: { params: Promise<{ id: string; taskId: string }> }) {
  const user = await requireUser();
  const { id, taskId } = await params;
  const { task, liveView } = await loadTaskView(user.id, id, taskId);
  return (
    <div className="mx-auto max-w-5xl px-4 py-6">
      <div className="mb-2 flex justify-end text-sm">
        <Link
          href={`/projects/${id}/tasks/${task.id}/graph`}
          data-testid="task-graph-link"
          className="text-zinc-600 underline dark:text-zinc-400"
        >
          Task graph
        </Link>
      </div>
      <TaskLiveView key={task.id} {...liveView} />
    </div>
  );
}
