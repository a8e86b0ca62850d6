import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type MergeStrategy, type PullRequestState, pullRequests } from "@/db/schema";
import { emitIdeasChanged, emitPullChanged } from "../events/bus";
import { notifyPullRequest } from "../notifications/pull-notifications";

/**
 * A pull request's lifecycle: it is opened once and leaves `open` once, for good. The table below is
 * the whole of it; `settlePullRequest` is the one way out of `open`.
 */
export const PULL_REQUEST_MOVES: Record<PullRequestState, readonly PullRequestState[]> = {
  open: ["merged", "closed"],
  merged: [],
  closed: [],
};

/** Why an idea is back in `ready`: its task's pull request was closed without being merged. */
export function closedUnmergedReason(number: number): string {
  return `its pull request #${number} was closed without being merged`;
}

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;

export interface Settle {
  pullRequestId: string;
  to: Exclude<PullRequestState, "open">;
  /** The holder of the PR's lock (a merge or close by SAM); absent for a state learnt from GitHub. */
  lockToken?: string;
  userId?: string | null;
  mergeCommit?: string;
  strategy?: MergeStrategy;
}

/**
 * Moves an open pull request to merged or closed, and the idea its task was executed from with it:
 * merged makes the idea `done`, closed returns it to `ready`. Returns whether this call made the move.
 */
export async function settlePullRequest(db: Db, input: Settle): Promise<boolean> {
  const where = sql`id = ${input.pullRequestId} AND state = 'open'${
    input.lockToken ? sql` AND lock_token = ${input.lockToken}` : sql``
  }`;
  const merged = input.to === "merged";
  const ideaStatus = merged ? "done" : "ready";
  const [update, ideaRows] = await db.batch([
    // Invariant: a pull request leaves `open` once (PULL_REQUEST_MOVES), by its lock holder if locked.
    db.run(sql`
      UPDATE pull_requests SET state = ${input.to}, updated_at = ${NOW}, lock_token = NULL, locked_until = NULL,
        ${
          merged
            ? sql`merged_at = ${NOW}, merged_by_user_id = ${input.userId ?? null}, merge_commit = ${input.mergeCommit ?? null},
              merge_strategy = ${input.strategy ?? null}`
            : sql`closed_at = ${NOW}, closed_by_user_id = ${input.userId ?? null}`
        }
      WHERE ${where}`),
    // The idea follows (Invariant: only an executing idea whose latest task opened this PR, once).
    db.all<{ id: string; projectId: string }>(sql`
      UPDATE ideas SET status = ${ideaStatus}, updated_at = ${NOW},
        position = coalesce((SELECT min(c.position) FROM ideas c WHERE c.project_id = ideas.project_id AND c.status = ${ideaStatus}) - 1024, 0)
      WHERE status = 'executing'
        AND id = (SELECT t.source_idea_id FROM pull_requests p JOIN tasks t ON t.id = p.task_id
                  WHERE p.id = ${input.pullRequestId} AND p.state = ${input.to})
        AND (SELECT t.id FROM tasks t WHERE t.source_idea_id = ideas.id ORDER BY t.created_at DESC LIMIT 1)
            = (SELECT task_id FROM pull_requests WHERE id = ${input.pullRequestId})
      RETURNING id, project_id AS projectId`),
  ]);
  const moved = update.rowsAffected === 1;
  const rows = ideaRows as { projectId?: string }[];
  for (const idea of rows) if (idea.projectId) emitIdeasChanged({ projectId: idea.projectId });
  if (moved) {
    const pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.id, input.pullRequestId) });
    if (pr) emitPullChanged({ projectId: pr.projectId, pullRequestId: input.pullRequestId });
    // Merged in SAM or on GitHub (the sync), this is the one way a PR becomes merged.
    if (pr && merged) await notifyPullRequest(db, pr, "merged");
  }
  return moved;
}
