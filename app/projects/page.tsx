import Link from "next/link";
import { requireUser } from "@/app/current-user";
import { CreateProjectForm } from "@/components/projects/CreateProjectForm";
import { ProjectList } from "@/components/projects/ProjectList";
import { PageMain } from "@/components/shell/PageMain";
import { getDb } from "@/db/client";
import { listProjects } from "@/lib/projects/projects";
import { createProjectAction } from "./actions";

export default async function ProjectsPage({ searchParams }: { searchParams: Promise<{ archived?: string }> }) {
  const user = await requireUser();
  const showArchived = (await searchParams).archived === "1";
  const projects = await listProjects(getDb(), user.id, { includeArchived: showArchived });
  return (
    <PageMain wide>
      <div className="grid gap-8 md:grid-cols-[1fr_20rem]">
        <section>
          <div className="mb-3 flex items-baseline justify-between">
            <h1 className="text-2xl font-semibold tracking-tight">Projects</h1>
            <Link href={showArchived ? "/projects" : "/projects?archived=1"} className="text-sm underline">
              {showArchived ? "Hide archived" : "Show archived"}
            </Link>
          </div>
          <ProjectList projects={projects} />
        </section>
        <aside>
          <CreateProjectForm create={createProjectAction} localPaths={user.isInstanceOwner} />
        </aside>
      </div>
    </PageMain>
  );
}
