import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, nodes, tasks, workspaces } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { type DaemonTarget, daemonClient, daemonTargetOf } from "../nodes/daemon-client";
import { TERMINAL_STATUSES } from "../tasks/statuses";

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
/** Nodes whose daemon is gone, and its workspaces with it. */
const GONE_NODE_STATUSES = new Set(["lost", "destroyed"]);

interface HeldWorkspace {
  id: string;
  taskId: string;
  node: typeof nodes.$inferSelect;
}

/**
 * Releases the workspaces of tasks that have ended, however they ended: the node deletes each one,
 * then its row says `removed` (and the node's place is free). It runs as soon as a task ends, for
 * that task, and on every scheduler pass for all of them, so a workspace that could not go at once —
 * still being cloned after the web app gave up waiting, its session not yet over, its node not
 * answering — is asked for again until it is gone: no node keeps a workspace the web app forgot.
 */
export async function releaseEndedWorkspaces(db: Db, taskId?: string): Promise<void> {
  const held: HeldWorkspace[] = await db
    .select({ id: workspaces.id, taskId: workspaces.taskId, node: nodes })
    .from(workspaces)
    .innerJoin(tasks, eq(tasks.id, workspaces.taskId))
    .innerJoin(nodes, eq(nodes.id, workspaces.nodeId))
    .where(
      and(
        inArray(workspaces.status, ["creating", "ready"]),
        inArray(tasks.status, TERMINAL_STATUSES),
        taskId === undefined ? undefined : eq(workspaces.taskId, taskId),
      ),
    )
    .limit(200);
  const released = await Promise.all(held.map((workspace) => release(db, workspace)));
  // A node has a free place again: a waiting task can start now.
  if (released.some(Boolean)) emitTaskChanged({});
}

async function release(db: Db, workspace: HeldWorkspace): Promise<boolean> {
  const { node } = workspace;
  const target = GONE_NODE_STATUSES.has(node.status) ? undefined : daemonTargetOf(db, node);
  if (target) {
    try {
      await daemonClient.removeWorkspace(target, workspace.id);
    } catch (err) {
      const details = SamError.is(err) ? err.details : undefined;
      // Never made, or already gone: nothing is left on the node.
      if (details?.status !== 404) {
        // A session of an ended task still runs there (its start timed out on our side): end it now.
        if (details?.daemonCode === "workspace_busy") await stopSessionOf(db, target, workspace.taskId);
        return false;
      }
    }
  }
  // Invariant: a workspace row is marked removed once, and only once its node no longer has it.
  const marked = await db.run(sql`
    UPDATE workspaces SET status = 'removed', removed_at = ${NOW}
    WHERE id = ${workspace.id} AND status IN ('creating', 'ready')`);
  return marked.rowsAffected === 1;
}

async function stopSessionOf(db: Db, target: DaemonTarget, taskId: string): Promise<void> {
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
  if (!session) return;
  await daemonClient
    .stop(target, session.id, { graceMs: 0, reason: "the task has already ended" })
    // No session there (the workspace is still being cloned), or the node does not answer: next pass.
    .catch(() => {});
}
