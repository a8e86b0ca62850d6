import { requireUser } from "@/app/current-user";
import { ProjectNav } from "@/components/projects/ProjectNav";
import { ProjectSummary } from "@/components/projects/ProjectSummary";
import { loadProjectOr404 } from "../load-project";

export default async function ProjectPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  return (
    <div>
      <ProjectNav projectId={project.id} name={project.name} current="overview" />
      {project.archivedAt ? (
        <p className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          This project is archived.
        </p>
      ) : null}
      <ProjectSummary project={project} />
    </div>
  );
}
