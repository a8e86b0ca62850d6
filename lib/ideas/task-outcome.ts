import { type SQL, sql } from "drizzle-orm";
import type { TaskStatus } from "@/db/schema";
import { isTerminal } from "../tasks/statuses";

/** Why an idea is back in `ready` although its task completed: the task pushed no branch. */
export const NO_CHANGES_REASON = "the task changed nothing";

/**
 * The statement that carries a task's end over to the idea it was executed from: completed
 * `unchanged` (no branch), failed or cancelled returns it to `ready` (the board and the idea show
 * why). Completed with changes leaves it `executing`: its pull request decides (lib/pulls/states.ts),
 * `done` once merged, `ready` if closed unmerged. It runs in the transition's batch, after the task's
 * guarded UPDATE, and applies only if that UPDATE moved the task. Undefined when the idea stays.
 */
export function ideaOutcomeStatement(
  taskId: string,
  to: TaskStatus,
  { unchanged = false }: { unchanged?: boolean } = {},
): SQL | undefined {
  if (!isTerminal(to) || (to === "completed" && !unchanged)) return undefined;
  const next = "ready";
  return sql`
    UPDATE ideas SET status = ${next}, updated_at = cast(unixepoch('subsec') * 1000 as integer),
      position = coalesce((SELECT min(c.position) FROM ideas c WHERE c.project_id = ideas.project_id AND c.status = ${next}) - 1024, 0)
    WHERE status = 'executing'
      AND id = (SELECT source_idea_id FROM tasks WHERE id = ${taskId} AND status = ${to})
      AND (SELECT t.id FROM tasks t WHERE t.source_idea_id = ideas.id ORDER BY t.created_at DESC LIMIT 1) = ${taskId}
    RETURNING id, project_id AS projectId`;
}
