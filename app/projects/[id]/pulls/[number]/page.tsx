import { requireUser } from "@/app/current-user";
import { PullRequestView } from "@/components/pulls/PullRequestView";
import { PageBody } from "@/components/shell/PageBody";
import { loadPullView } from "../load-pull";
import { pullActions } from "../pull-actions";

export default async function PullRequestPage({ params }: { params: Promise<{ id: string; number: string }> }) {
  const user = await requireUser();
  const { id, number } = await params;
  const { project, detail, diffs } = await loadPullView(user.id, id, number);
  return (
    <PageBody wide>
      <PullRequestView
        key={detail.id}
        projectId={project.id}
        pull={detail}
        diffs={diffs}
        actions={pullActions(project.id, detail.id)}
      />
    </PageBody>
  );
}
