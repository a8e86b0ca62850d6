import { requireUser } from "@/app/current-user";
import { PullRequestView } from "@/components/pulls/PullRequestView";
import { TaskPanel } from "@/components/shell/TaskPanel";
import { loadPullView } from "../../../pulls/load-pull";
import { pullActions } from "../../../pulls/pull-actions";

/**
 * A pull request opened from inside the project (the task's header in the chat) shows in the right
 * panel beside the page it was opened from; its URL, loaded afresh, is the PR's full page.
 */
export default async function PullRequestPanelPage({ params }: { params: Promise<{ id: string; number: string }> }) {
  const user = await requireUser();
  const { id, number } = await params;
  const { project, detail, diffs } = await loadPullView(user.id, id, number);
  return (
    <TaskPanel
      title={`#${detail.number} ${detail.title}`}
      fullPage={`/projects/${project.id}/pulls/${detail.number}`}
      kind="Pull request"
    >
      <PullRequestView
        key={detail.id}
        projectId={project.id}
        pull={detail}
        diffs={diffs}
        actions={pullActions(project.id, detail.id)}
      />
    </TaskPanel>
  );
}
