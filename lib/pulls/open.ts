import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { pullRequests, tasks } from "@/db/schema";
import { emitPullChanged } from "../events/bus";
import { newId } from "../ids";
import { notifyPullRequest } from "../notifications/pull-notifications";
import { type PullRequestRow, recountPullRequest } from "./figures";
import { openPullRequestOnGitHub } from "./github/sync";

// A PR description is for reading, not the whole task.
const MAX_DESCRIPTION_CHARS = 4_000;

/** The PR's description: the agent's summary, then the task it did. */
export function pullRequestBody(summary: string | null, description: string): string {
  const task =
    description.length > MAX_DESCRIPTION_CHARS ? `${description.slice(0, MAX_DESCRIPTION_CHARS - 1)}…` : description;
  return [summary?.trim() || "The agent left no summary.", "## Task", task.trim()].join("\n\n");
}

/**
 * Gives a completed task-mode task that pushed a branch its pull request, once: title from the task,
 * description from the agent's summary and the task, head its branch, base its base branch. A
 * revision task has none of its own: its pushes update the PR it revises. Returns the PR to count
 * (the task's, or the revised one), or undefined when the task gets none. Writes the database only.
 */
export async function recordPullRequest(db: Db, taskId: string): Promise<PullRequestRow | undefined> {
  const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
  if (task?.mode !== "task" || task.status !== "completed" || !task.branch) return undefined;
  if (task.pullRequestId) {
    const revised = await db.query.pullRequests.findFirst({ where: eq(pullRequests.id, task.pullRequestId) });
    return revised?.state === "open" ? revised : undefined;
  }
  const project = await db.query.projects.findFirst({
    where: (p, { eq }) => eq(p.id, task.projectId),
    columns: { defaultBranch: true },
  });
  if (!project) return undefined;
  await db.run(sql`
    INSERT INTO pull_requests (id, project_id, number, task_id, title, body, head_branch, base_branch)
    SELECT ${newId()}, ${task.projectId}, coalesce(max(number), 0) + 1, ${task.id}, ${task.title},
      ${pullRequestBody(task.summary, task.description)}, ${task.branch}, ${task.baseBranch ?? project.defaultBranch}
    FROM pull_requests WHERE project_id = ${task.projectId}
    -- Invariant: one PR per task; numbers count per project from 1, each used once (unique index).
    ON CONFLICT (task_id) DO NOTHING`);
  const pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, task.id) });
  if (pr) emitPullChanged({ projectId: pr.projectId, pullRequestId: pr.id });
  if (pr) await notifyPullRequest(db, pr, "opened");
  return pr;
}

/**
 * Records the task's PR (see recordPullRequest), counts its files and lines, and opens it on GitHub
 * when the project is there (a failure there keeps SAM's PR and is recorded on it).
 */
export async function ensurePullRequest(db: Db, taskId: string): Promise<PullRequestRow | undefined> {
  const pr = await recordPullRequest(db, taskId);
  if (pr) await recountPullRequest(db, pr);
  if (pr) await openPullRequestOnGitHub(db, pr);
  return pr;
}

/**
 * Completed tasks that pushed a branch but have no PR (the web app stopped between the two): the
 * scheduler opens theirs when it starts. Revision tasks are left out: they open none.
 */
export async function openMissingPullRequests(db: Db): Promise<void> {
  const rows = await db.all<{ id: string }>(sql`
    SELECT t.id FROM tasks t
    WHERE t.status = 'completed' AND t.mode = 'task' AND t.branch IS NOT NULL AND t.pull_request_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM pull_requests p WHERE p.task_id = t.id)`);
  for (const row of rows) await ensurePullRequest(db, row.id).catch(() => {});
}
