import type { SandboxState } from "@sam/agent-daemon/contract";
import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes, tasks, tokens } from "@/db/schema";
import { emitTaskChanged } from "../events/bus";
import { retryLostAttempt } from "../orchestrator/retry";
import { ON_NODE_STATUSES } from "../tasks/statuses";
import { transitionTask } from "../tasks/transition";
import { stopLocalDaemon } from "./local-daemon-process";

/** The reasons a task fails with when its node goes away under it; such a task is re-queued once. */
export const NODE_LOST = "node lost";
export const NODE_REMOVED = "node removed";

export function isNodeLossReason(reason: string | null): boolean {
  return reason !== null && (reason.startsWith(NODE_LOST) || reason.startsWith(NODE_REMOVED));
}

/**
 * Declares a node lost: its running work fails with the reason (and is re-queued on another node)
 * and its tokens stop working. Safe to call twice, or from two schedulers at once; only the first
 * call changes the node, and each task fails and is re-queued once.
 */
export async function declareNodeLost(db: Db, nodeId: string, reason: string): Promise<void> {
  // Invariant: a node is lost once; a node already lost or destroyed is left alone.
  const lost = await db
    .update(nodes)
    .set({ status: "lost", statusReason: reason })
    .where(and(eq(nodes.id, nodeId), inArray(nodes.status, ["provisioning", "ready", "warm", "draining"])))
    .returning({ providerRef: nodes.providerRef, provider: nodes.provider });
  if (lost[0]) {
    await db
      .update(tokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(tokens.nodeId, nodeId), isNull(tokens.revokedAt)));
    if (lost[0].provider === "local") stopLocalDaemon(nodeId, lost[0].providerRef);
  }
  await failAndRequeueTasksOnNode(db, nodeId, reason);
}

/**
 * Fails every task still on a node that is gone with `reason`, and re-queues each one this call
 * failed as a new attempt in its lineage. The failing move is the guard: when two callers race, the
 * one whose move applied re-queues, and the retry's own guard allows one replacement per attempt.
 */
export async function failAndRequeueTasksOnNode(db: Db, nodeId: string, reason: string): Promise<string[]> {
  const onNode = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.nodeId, nodeId), inArray(tasks.status, ON_NODE_STATUSES)));
  const requeued: string[] = [];
  for (const task of onNode) {
    const failed = await transitionTask(db, {
      taskId: task.id,
      from: ON_NODE_STATUSES,
      to: "failed",
      actor: { kind: "system" },
      reason,
      set: { failureReason: reason },
    });
    if (!failed) continue;
    const retry = await retryLostAttempt(db, task.id);
    if ("taskId" in retry) requeued.push(retry.taskId);
    else console.error(`sam: task ${task.id} lost with its node was not re-queued: ${retry.refused}`);
  }
  if (requeued.length > 0) emitTaskChanged({});
  return requeued;
}

/**
 * Where a re-queued attempt's workspace starts: with the branch of the attempt lost under it merged
 * in (when that attempt had pushed any work: a branch not in the repository is passed over).
 */
export async function lostAttemptBranches(
  db: Db,
  task: { retryOfId: string | null },
): Promise<{ taskId: string; title: string; branch: string }[]> {
  if (!task.retryOfId) return [];
  const lostAttempt = await db.query.tasks.findFirst({
    where: eq(tasks.id, task.retryOfId),
    columns: { id: true, title: true, branch: true, failureReason: true },
  });
  if (!lostAttempt?.branch || !isNodeLossReason(lostAttempt.failureReason)) return [];
  return [
    {
      taskId: lostAttempt.id,
      title: `${lostAttempt.title} (the attempt lost with its node)`,
      branch: lostAttempt.branch,
    },
  ];
}

/**
 * Nodes that stopped answering are lost: joined and cloud nodes once neither a heartbeat nor their
 * channel was heard for the timeout (a local node is lost at once when its daemon dies, through the
 * hold; its heartbeats are checked here too).
 */
export async function sweepLostNodes(db: Db, timeoutMs: number): Promise<number> {
  const cutoff = new Date(Date.now() - timeoutMs);
  const stale = await db
    .select({ id: nodes.id })
    .from(nodes)
    .where(
      and(
        inArray(nodes.status, ["ready", "warm", "draining"]),
        or(isNull(nodes.lastHeartbeatAt), lt(nodes.lastHeartbeatAt, cutoff)),
        or(isNull(nodes.channelConnectedAt), lt(nodes.channelConnectedAt, cutoff)),
      ),
    );
  for (const node of stale) await declareNodeLost(db, node.id, NODE_LOST);
  await requeueMissedLostTasks(db);
  return stale.length;
}

const REQUEUE_CATCH_UP_MS = 60 * 60_000;

/**
 * Re-queues tasks that failed with their node but got no new attempt, because the process that
 * failed them stopped before it made one: failed in the last hour, no replacement yet, and nothing
 * known to refuse one (the lineage's retry limit, an ended parent, an archived project). The retry's
 * own guard keeps it to one attempt when this races the process that failed them.
 */
async function requeueMissedLostTasks(db: Db): Promise<void> {
  const missed = await db.all<{ id: string }>(sql`
    SELECT t.id AS id FROM tasks t
    JOIN nodes n ON n.id = t.node_id AND n.status IN ('lost', 'destroyed')
    JOIN projects p ON p.id = t.project_id AND p.archived_at IS NULL
    WHERE t.status = 'failed' AND t.ended_at > ${Date.now() - REQUEUE_CATCH_UP_MS}
      AND (t.failure_reason LIKE ${`${NODE_LOST}%`} OR t.failure_reason LIKE ${`${NODE_REMOVED}%`})
      AND NOT EXISTS (SELECT 1 FROM tasks r WHERE r.retry_of_id = t.id)
      AND (SELECT count(*) FROM tasks l WHERE l.lineage_id = t.lineage_id AND l.retry_of_id IS NOT NULL) < p.max_retries
      AND (t.parent_id IS NULL OR (SELECT pt.status FROM tasks pt WHERE pt.id = t.parent_id)
        NOT IN ('completed', 'failed', 'cancelled'))
    LIMIT 50`);
  for (const task of missed) await retryLostAttempt(db, task.id);
}

/** Records a heartbeat: the node is alive at `url`, with its sandbox and version as it reports them. */
export async function recordHeartbeat(
  db: Db,
  nodeId: string,
  url: string,
  sandbox?: { state: SandboxState; error?: string },
  version?: string,
): Promise<boolean> {
  const updated = await db
    .update(nodes)
    .set({
      lastHeartbeatAt: sql`(cast(unixepoch('subsec') * 1000 as integer))`,
      url,
      ...(sandbox ? { sandbox: sandbox.state, sandboxError: sandbox.error ?? null } : {}),
      ...(version ? { version } : {}),
    })
    .where(and(eq(nodes.id, nodeId), inArray(nodes.status, ["provisioning", "ready", "warm", "draining"])))
    .returning({ id: nodes.id });
  return updated.length > 0;
}
