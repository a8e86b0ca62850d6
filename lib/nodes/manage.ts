import { and, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes, tokens } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { resolveIdPrefix } from "../ids/resolve-prefix";
import { ON_NODE_STATUSES } from "../tasks/statuses";
import { type Requester, requireAdmin } from "../users";
import { listNodes, type NodeListEntry } from "./list";
import { stopLocalDaemon } from "./local-daemon-process";
import { failAndRequeueTasksOnNode, NODE_REMOVED } from "./lost-nodes";

type NodeRow = typeof nodes.$inferSelect;

const onNodeList = sql.join(
  ON_NODE_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

async function nodeOf(db: Db, requester: Requester, idOrPrefix: string, what: string): Promise<NodeRow> {
  await requireAdmin(db, requester, what);
  const id = await resolveIdPrefix(db, "node", requester, idOrPrefix);
  const node = await db.query.nodes.findFirst({ where: eq(nodes.id, id) });
  if (!node) throw new SamError("not_found", `No node ${idOrPrefix}`);
  return node;
}

async function entryOf(db: Db, nodeId: string): Promise<NodeListEntry> {
  const entry = (await listNodes(db, { all: true })).find((n) => n.id === nodeId);
  if (!entry) throw new SamError("not_found", `No node ${nodeId}`);
  return entry;
}

/**
 * Drains a node: it gets no new work (placement takes only ready and warm nodes), and what runs on
 * it finishes. An idle drained node stays draining until it is removed (a cloud VM is deleted).
 */
export async function drainNode(db: Db, requester: Requester, idOrPrefix: string): Promise<NodeListEntry> {
  const node = await nodeOf(db, requester, idOrPrefix, "drain nodes");
  // Invariant: only a live node starts draining; a lost or removed one stays what it is.
  const drained = await db
    .update(nodes)
    .set({ status: "draining", warmUntil: null, statusReason: "drained" })
    .where(and(eq(nodes.id, node.id), inArray(nodes.status, ["provisioning", "ready", "warm", "draining"])))
    .returning({ id: nodes.id });
  if (drained.length === 0) {
    throw new SamError(
      "conflict",
      `Node ${node.name} (${node.id}) is ${node.status === "destroyed" ? "removed" : node.status}; only a live node can be drained`,
    );
  }
  emitTaskChanged({});
  return entryOf(db, node.id);
}

/**
 * Removes a node. One write marks it destroyed and revokes its credential, so from then on its
 * heartbeats, events, channel and command results are refused; the tasks still on it fail with
 * `node removed` and are re-queued on another node as a lost node's are.
 */
export async function removeNode(
  db: Db,
  requester: Requester,
  idOrPrefix: string,
): Promise<NodeListEntry & { requeued: string[] }> {
  const node = await nodeOf(db, requester, idOrPrefix, "remove nodes");
  const [removed] = await db.batch([
    // Invariant: removed once; the credential is revoked in the same write that removes the node.
    db
      .update(nodes)
      .set({
        status: "destroyed",
        destroyedAt: new Date(),
        warmUntil: null,
        statusReason: "removed",
        channelOpen: false,
      })
      .where(and(eq(nodes.id, node.id), ne(nodes.status, "destroyed")))
      .returning({ id: nodes.id }),
    db
      .update(tokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(tokens.nodeId, node.id), isNull(tokens.revokedAt))),
  ]);
  if (removed.length === 0) throw new SamError("conflict", `Node ${node.name} (${node.id}) was already removed`);
  if (node.provider === "local") stopLocalDaemon(node.id, node.providerRef);
  const requeued = await failAndRequeueTasksOnNode(db, node.id, `${NODE_REMOVED}: an admin removed it`);
  emitTaskChanged({});
  return { ...(await entryOf(db, node.id)), requeued };
}

/**
 * Drained nodes with nothing left on them (no task, no workspace still held): a cloud VM among them
 * can be deleted now.
 */
export async function idleDrainingNodes(db: Db): Promise<NodeRow[]> {
  return db
    .select()
    .from(nodes)
    .where(
      and(
        eq(nodes.status, "draining"),
        sql`NOT EXISTS (SELECT 1 FROM tasks t WHERE t.node_id = nodes.id AND t.status IN (${onNodeList}))`,
        sql`NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.node_id = nodes.id AND w.status IN ('creating', 'ready'))`,
      ),
    );
}
