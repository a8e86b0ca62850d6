import Link from "next/link";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { ProjectSummary } from "@/components/projects/ProjectSummary";
import { NewTaskForm } from "@/components/tasks/NewTaskForm";
import { TaskList } from "@/components/tasks/TaskList";
import { getDb } from "@/db/client";
import { listProjectTasks } from "@/lib/tasks/show-task";
import { createTaskAction } from "./tasks/actions";

export default async function ProjectPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  const tasks = await listProjectTasks(getDb(), project.id);
  return (
    <div>
      {project.archivedAt ? (
        <p className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          This project is archived.
        </p>
      ) : null}
      <div className="grid gap-8 md:grid-cols-[1fr_22rem]">
        {/* The form comes first on a phone, beside the list on wider screens. */}
        <aside className="md:order-2">
          {project.archivedAt ? (
            <div className="rounded-lg border border-dashed border-zinc-300 p-4 text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
              <h2 className="mb-1 font-medium text-zinc-900 dark:text-zinc-100">New task</h2>
              <p data-testid="archived-no-tasks">
                An archived project takes no new tasks.{" "}
                {project.role === "owner" ? (
                  <>
                    Restore it in{" "}
                    <Link href={`/projects/${project.id}/settings`} className="underline">
                      Settings
                    </Link>{" "}
                    to add some.
                  </>
                ) : (
                  "An owner can restore it."
                )}
              </p>
            </div>
          ) : (
            <NewTaskForm create={createTaskAction.bind(null, project.id)} />
          )}
        </aside>
        <div className="min-w-0 space-y-8">
          <section>
            <h2 className="mb-3 text-lg font-semibold tracking-tight">Tasks</h2>
            <TaskList projectId={project.id} tasks={tasks} />
          </section>
          <section>
            <h2 className="mb-3 text-lg font-semibold tracking-tight">Project</h2>
            <ProjectSummary project={project} />
          </section>
        </div>
      </div>
    </div>
  );
}
