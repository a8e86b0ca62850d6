import type { ReactNode } from "react";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { ProjectNav } from "@/components/projects/ProjectNav";

/**
 * The project's working area: the chat and task pages beside the project's sidebar. The layout stays
 * mounted while the user moves between sessions and tasks, so the sidebar keeps its live stream.
 */
export default async function ProjectWorkspaceLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ id: string }>;
}) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  return (
    <div>
      <ProjectNav projectId={project.id} name={project.name} />
      <div className="grid gap-6 md:grid-cols-[20rem_minmax(0,1fr)]">
        <aside aria-label="Sessions and tasks" className="order-2 min-w-0 md:order-1" />
        <div className="order-1 min-w-0 md:order-2">{children}</div>
      </div>
    </div>
  );
}
