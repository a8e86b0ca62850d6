import Link from "next/link";
import type { PullRequestState } from "@/db/schema";
import { PullStateBadge } from "./PullStateBadge";

/** A task's pull request where the task is shown (its page, the chat's header, its idea): "#3 open", linked. */
export function PullRequestLink({
  projectId,
  pullRequest,
}: {
  projectId: string;
  pullRequest: { number: number; state: PullRequestState };
}) {
  return (
    <Link
      href={`/projects/${projectId}/pulls/${pullRequest.number}`}
      data-testid="pull-request-link"
      className="inline-flex items-center gap-1.5 underline"
    >
      Pull request #{pullRequest.number}
      <PullStateBadge state={pullRequest.state} />
    </Link>
  );
}
