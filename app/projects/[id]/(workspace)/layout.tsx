import type { ReactNode } from "react";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { ProjectNav } from "@/components/projects/ProjectNav";
import { ProjectSidebar } from "@/components/sidebar/ProjectSidebar";
import { getDb } from "@/db/client";
import { loadSidebarPage } from "@/lib/sidebar/load-sidebar";

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
  const sidebarPage = await loadSidebarPage(getDb(), user.id, project.id, {});
  return (
    <div>
      <ProjectNav projectId={project.id} name={project.name} />
      <div className="grid gap-6 md:grid-cols-[20rem_minmax(0,1fr)]">
        {/* On a phone the page comes first and the sidebar follows it. */}
        <aside aria-label="Sessions and tasks" className="order-2 min-w-0 md:order-1">
          <ProjectSidebar projectId={project.id} initialPage={sidebarPage} />
        </aside>
        <div className="order-1 min-w-0 md:order-2">{children}</div>
      </div>
    </div>
  );
}
