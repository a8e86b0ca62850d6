import Link from "next/link";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { TaskLiveView } from "@/components/tasks/TaskLiveView";
import { toJson } from "@/components/tasks/task-json";
import { getDb } from "@/db/client";
import { agentEventsOf, taskDetails } from "@/lib/tasks/show-task";
import { loadTaskOr404 } from "../load-task";

export default async function TaskPage({ params }: { params: Promise<{ id: string; taskId: string }> }) {
  const user = await requireUser();
  const { id, taskId } = await params;
  const [project, task] = await Promise.all([loadProjectOr404(user.id, id), loadTaskOr404(user.id, id, taskId)]);
  const db = getDb();
  const details = await taskDetails(db, task);
  // The first page of events comes with the page; the stream picks up after the last of them.
  const events = details.sessionId ? await agentEventsOf(db, details.sessionId) : [];
  return (
    <div>
      <Link
        href={`/projects/${project.id}`}
        className="mb-4 inline-block text-sm text-zinc-600 underline dark:text-zinc-400"
      >
        ← {project.name}
      </Link>
      <TaskLiveView
        key={task.id}
        projectId={project.id}
        initialTask={toJson(details)}
        initialEvents={toJson(events)}
        graceSeconds={project.stopGraceSeconds}
      />
    </div>
  );
}
