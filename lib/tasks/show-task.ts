import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, projects, pullRequests, taskDependencies, taskEvents, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { nodeLabelWait } from "../nodes/label-wait";
import { getProjectForUser } from "../projects/projects";
import { taskUsage } from "../usage/task-usage";
import { isTerminal } from "./statuses";

export type TaskRow = typeof tasks.$inferSelect;

/** Loads a task the user may see (a member of its project); anything else does not exist for them. */
export async function getTaskForUser(db: Db, userId: string, taskId: string): Promise<TaskRow> {
  const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
  if (!task) throw new SamError("not_found", "Task not found");
  try {
    await getProjectForUser(db, userId, task.projectId);
  } catch {
    throw new SamError("not_found", "Task not found");
  }
  return task;
}

/** A task with what surrounds it: children, dependencies, session and status history. */
export async function taskDetails(db: Db, task: TaskRow) {
  const [childRows, deps, childEdges, session, history, replacement, related, retries, pull, usage] = await Promise.all(
    [
      db
        .select({
          id: tasks.id,
          title: tasks.title,
          status: tasks.status,
          mode: tasks.mode,
          branch: tasks.branch,
          prUrl: tasks.prUrl,
          failureReason: tasks.failureReason,
        })
        .from(tasks)
        .where(eq(tasks.parentId, task.id))
        .orderBy(asc(tasks.createdAt)),
      db
        .select({ id: tasks.id, title: tasks.title, status: tasks.status })
        .from(taskDependencies)
        .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnTaskId))
        .where(eq(taskDependencies.taskId, task.id)),
      // The edges among the children, with the status and title of what each waits on.
      db
        .select({
          taskId: taskDependencies.taskId,
          dependsOnTaskId: taskDependencies.dependsOnTaskId,
          title: tasks.title,
          status: tasks.status,
        })
        .from(taskDependencies)
        .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnTaskId))
        .where(sql`${taskDependencies.taskId} IN (SELECT id FROM tasks WHERE parent_id = ${task.id})`),
      db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) }),
      db.query.taskEvents.findMany({ where: eq(taskEvents.taskId, task.id), orderBy: asc(taskEvents.id) }),
      // Through the lineage index: a replacement is always in its failed task's lineage.
      db.query.tasks.findFirst({
        where: and(eq(tasks.lineageId, task.lineageId), eq(tasks.retryOfId, task.id)),
        columns: { id: true, title: true },
      }),
      // The parent and the attempt this one retries, by title: the page links them by name.
      task.parentId || task.retryOfId
        ? db
            .select({ id: tasks.id, title: tasks.title, status: tasks.status })
            .from(tasks)
            .where(
              inArray(
                tasks.id,
                [task.parentId, task.retryOfId].filter((id): id is string => id !== null),
              ),
            )
        : [],
      // Whether the lineage may be retried again (the guard retry_subtask's insert checks).
      task.status === "failed"
        ? db
            .select({
              max: projects.maxRetries,
              used: sql<number>`(SELECT count(*) FROM tasks WHERE lineage_id = ${task.lineageId} AND retry_of_id IS NOT NULL)`,
            })
            .from(projects)
            .where(eq(projects.id, task.projectId))
        : [],
      // The PR the task's work opened; a revision task's is the PR it revises.
      db.query.pullRequests.findFirst({
        where: task.pullRequestId ? eq(pullRequests.id, task.pullRequestId) : eq(pullRequests.taskId, task.id),
        columns: { id: true, number: true, state: true, url: true },
      }),
      taskUsage(db, task.id),
    ],
  );
  const parent = related.find((t) => t.id === task.parentId);
  // A queued task whose project requires node labels no live node has waits for such a node.
  const placementWait =
    task.status === "queued" ? await nodeLabelWait(db, await projectNodeLabels(db, task.projectId)) : null;
  const retryOf = related.find((t) => t.id === task.retryOfId);
  const children = childRows.map((child) => ({
    ...child,
    dependsOn: childEdges.filter((e) => e.taskId === child.id).map((e) => e.dependsOnTaskId),
    blockedByTitles:
      child.status === "queued"
        ? childEdges.filter((e) => e.taskId === child.id && e.status !== "completed").map((e) => e.title)
        : [],
  }));
  return {
    id: task.id,
    projectId: task.projectId,
    title: task.title,
    description: task.description,
    status: task.status,
    mode: task.mode,
    branch: task.branch,
    baseBranch: task.baseBranch,
    prUrl: task.prUrl,
    pullRequest: pull ?? null,
    summary: task.summary,
    progress: task.progress,
    failureReason: task.failureReason,
    parentId: task.parentId,
    rootId: task.rootId,
    retryOfId: task.retryOfId,
    retryCount: task.retryCount,
    retriedAsId: replacement?.id ?? null,
    parent: parent ?? null,
    retryOf: retryOf ? { id: retryOf.id, title: retryOf.title } : null,
    retriedAs: replacement ?? null,
    retryLimitReached: retries[0] ? Number(retries[0].used) >= retries[0].max : false,
    // A stop recorded and not yet finished: the task is on its way to failed.
    stopReason: task.stopRequestedAt && !isTerminal(task.status) ? task.stopReason : null,
    depth: task.depth,
    nodeId: task.nodeId,
    placementWait,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    endedAt: task.endedAt,
    sessionId: session?.id ?? null,
    sessionState: session?.state ?? null,
    children,
    // While it waits for its subtasks (awaiting_subtasks): how many have not ended.
    waitingOn: task.status === "awaiting_subtasks" ? children.filter((c) => !isTerminal(c.status)).length : 0,
    dependsOn: deps.map((d) => d.id),
    // Dependencies gate execution: a queued task waits on every one not yet completed.
    blockedBy: task.status === "queued" ? deps.filter((d) => d.status !== "completed").map((d) => d.id) : [],
    blockedByTitles: task.status === "queued" ? deps.filter((d) => d.status !== "completed").map((d) => d.title) : [],
    // Tokens and cost of the task's own turns and of its whole subtree's.
    usage,
    history: history.map((h) => ({
      id: h.id,
      from: h.fromStatus,
      to: h.toStatus,
      actor: h.actorKind,
      reason: h.reason,
      at: h.createdAt,
    })),
  };
}
export type TaskDetails = Awaited<ReturnType<typeof taskDetails>>;

async function projectNodeLabels(db: Db, projectId: string): Promise<string> {
  const project = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { nodeLabels: true },
  });
  return project?.nodeLabels ?? "[]";
}

export interface StoredAgentEvent {
  seq: number;
  type: string;
  payload: unknown;
  at: Date;
}

/** A session's agent events after `afterSeq`, in order. */
export async function agentEventsOf(db: Db, sessionId: string, afterSeq = 0, limit = 500): Promise<StoredAgentEvent[]> {
  const rows = await db
    .select()
    .from(agentEvents)
    .where(and(eq(agentEvents.sessionId, sessionId), gt(agentEvents.seq, afterSeq)))
    .orderBy(asc(agentEvents.seq))
    .limit(limit);
  return rows.map((r) => ({ seq: r.seq, type: r.type, payload: JSON.parse(r.payload) as unknown, at: r.createdAt }));
}

/** The tasks of a project, newest first. */
export async function listProjectTasks(db: Db, projectId: string, limit = 200) {
  return db
    .select({
      id: tasks.id,
      title: tasks.title,
      status: tasks.status,
      mode: tasks.mode,
      parentId: tasks.parentId,
      branch: tasks.branch,
      createdAt: tasks.createdAt,
    })
    .from(tasks)
    .where(eq(tasks.projectId, projectId))
    .orderBy(desc(tasks.createdAt))
    .limit(limit);
}
