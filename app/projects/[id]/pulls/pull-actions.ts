import type { PullActions } from "@/components/pulls/PullRequestView";
import {
  closePullAction,
  commentPullAction,
  mergePullAction,
  requestChangesAction,
  resolveConflictsAction,
} from "./actions";

/** The PR view's server actions, bound to one project's PR. */
export function pullActions(projectId: string, pullId: string): PullActions {
  return {
    merge: mergePullAction.bind(null, projectId, pullId),
    close: closePullAction.bind(null, projectId, pullId),
    comment: commentPullAction.bind(null, projectId, pullId),
    requestChanges: requestChangesAction.bind(null, projectId, pullId),
    resolve: resolveConflictsAction.bind(null, projectId, pullId),
  };
}
