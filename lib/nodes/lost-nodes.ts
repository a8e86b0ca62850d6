import type { SandboxState } from "@sam/agent-daemon/contract";
import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes, tasks, tokens } from "@/db/schema";
import { ON_NODE_STATUSES } from "../tasks/statuses";
import { transitionTask } from "../tasks/transition";
import { stopLocalDaemon } from "./local-daemon-process";

/**
 * Declares a node lost: its running work fails with the reason and its tokens stop working. Safe to
 * call twice; only the first call changes the node.
 */
export async function declareNodeLost(db: Db, nodeId: string, reason: string): Promise<void> {
  // Invariant: a node is lost once; a node already lost or destroyed is left alone.
  const lost = await db
    .update(nodes)
    .set({ status: "lost" })
    .where(and(eq(nodes.id, nodeId), inArray(nodes.status, ["provisioning", "ready", "warm", "draining"])))
    .returning({ providerRef: nodes.providerRef, provider: nodes.provider });
  await failTasksOnNode(db, nodeId, reason);
  if (lost[0]) {
    await db
      .update(tokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(tokens.nodeId, nodeId), isNull(tokens.revokedAt)));
    if (lost[0].provider === "local") stopLocalDaemon(nodeId, lost[0].providerRef);
  }
}

async function failTasksOnNode(db: Db, nodeId: string, reason: string): Promise<void> {
  const onNode = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.nodeId, nodeId), inArray(tasks.status, ON_NODE_STATUSES)));
  for (const task of onNode) {
    await transitionTask(db, {
      taskId: task.id,
      from: ON_NODE_STATUSES,
      to: "failed",
      actor: { kind: "system" },
      reason,
      set: { failureReason: reason },
    });
  }
}

/** Nodes whose heartbeats stopped for longer than the timeout are lost. */
export async function sweepLostNodes(db: Db, timeoutMs: number): Promise<number> {
  const cutoff = new Date(Date.now() - timeoutMs);
  const stale = await db
    .select({ id: nodes.id })
    .from(nodes)
    .where(
      and(
        inArray(nodes.status, ["ready", "warm", "draining"]),
        or(isNull(nodes.lastHeartbeatAt), lt(nodes.lastHeartbeatAt, cutoff)),
      ),
    );
  for (const node of stale) await declareNodeLost(db, node.id, "node lost");
  return stale.length;
}

/** Records a heartbeat: the node is alive at `url`, with its sandbox as it reports it. */
export async function recordHeartbeat(
  db: Db,
  nodeId: string,
  url: string,
  sandbox?: { state: SandboxState; error?: string },
): Promise<boolean> {
  const updated = await db
    .update(nodes)
    .set({
      lastHeartbeatAt: sql`(cast(unixepoch('subsec') * 1000 as integer))`,
      url,
      ...(sandbox ? { sandbox: sandbox.state, sandboxError: sandbox.error ?? null } : {}),
    })
    .where(and(eq(nodes.id, nodeId), inArray(nodes.status, ["provisioning", "ready", "warm", "draining"])))
    .returning({ id: nodes.id });
  return updated.length > 0;
}
