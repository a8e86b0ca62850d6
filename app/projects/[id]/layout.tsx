import Link from "next/link";
import type { ReactNode } from "react";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { ProjectSwitcher } from "@/components/shell/ProjectSwitcher";
import { RailDrawer } from "@/components/shell/RailDrawer";
import { SectionNav } from "@/components/shell/SectionNav";
import { ProjectSidebar } from "@/components/sidebar/ProjectSidebar";
import { getDb } from "@/db/client";
import { listProjects } from "@/lib/projects/projects";
import { loadSidebarPage } from "@/lib/sidebar/load-sidebar";

/**
 * A project's frame: the rail (switcher, New chat, sections, the sessions sidebar) on the left, the
 * page in the middle, and task details in the right panel when one is opened from the page. The
 * layout stays mounted while the user moves between the project's pages, so the sidebar keeps its
 * live stream and its scroll position.
 */
export default async function ProjectLayout({
  children,
  panel,
  params,
}: {
  children: ReactNode;
  panel: ReactNode;
  params: Promise<{ id: string }>;
}) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  const db = getDb();
  const [sidebarPage, projects] = await Promise.all([
    loadSidebarPage(db, user.id, project.id, {}),
    listProjects(db, user.id),
  ]);
  return (
    <>
      <RailDrawer>
        <div className="space-y-3 border-b border-zinc-200 p-3 dark:border-zinc-800">
          <ProjectSwitcher
            current={{ id: project.id, name: project.name }}
            projects={projects.map((p) => ({ id: p.id, name: p.name }))}
          />
          <Link
            href={`/projects/${project.id}`}
            data-testid="new-chat"
            className="flex items-center justify-center gap-1.5 rounded-md bg-blue-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-700"
          >
            <svg aria-hidden viewBox="0 0 20 20" className="size-4" fill="currentColor">
              <path d="M9 4h2v5h5v2h-5v5H9v-5H4V9h5z" />
            </svg>
            New chat
            <kbd className="ml-1 hidden rounded border border-blue-400 px-1 font-sans text-[10px] md:inline">C</kbd>
          </Link>
          <SectionNav projectId={project.id} />
        </div>
        <div className="min-h-0 flex-1 overflow-y-auto p-3" data-testid="rail-scroll">
          <ProjectSidebar projectId={project.id} initialPage={sidebarPage} />
        </div>
      </RailDrawer>
      <main id="main" data-testid="main-pane" className="min-w-0 flex-1 overflow-y-auto">
        {children}
      </main>
      {panel}
    </>
  );
}
