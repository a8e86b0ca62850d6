import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { IdeaBoard } from "@/components/ideas/IdeaBoard";
import { PageBody } from "@/components/shell/PageBody";
import { getDb } from "@/db/client";
import { boardCards } from "@/lib/ideas/board";
import { createIdeaAction, moveIdeaAction, updateIdeaAction } from "./actions";

export default async function IdeasBoardPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  const cards = await boardCards(getDb(), project.id);
  return (
    <PageBody title="Ideas" wide>
      {project.archivedAt ? (
        <p className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          This project is archived: its ideas can be read but not changed.
        </p>
      ) : null}
      <IdeaBoard
        projectId={project.id}
        initialCards={cards}
        create={createIdeaAction.bind(null, project.id)}
        update={updateIdeaAction.bind(null, project.id)}
        move={moveIdeaAction.bind(null, project.id)}
      />
    </PageBody>
  );
}
