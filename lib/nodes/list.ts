import { nodeLabelsSchema } from "@sam/agent-daemon/contract";
import { desc, ne, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes } from "@/db/schema";
import { ON_NODE_STATUSES } from "../tasks/statuses";

/** What `sam node list` and the Nodes page show of a node's status. */
export type NodeListStatus = "provisioning" | "ready" | "busy" | "draining" | "lost" | "destroyed";

export interface NodeCost {
  amount: number;
  currency: string;
  since: string;
}

/** One node as `sam node list --json` and GET /api/nodes give it. */
export interface NodeListEntry {
  id: string;
  name: string;
  kind: "local" | "joined" | "hetzner";
  status: NodeListStatus;
  statusReason: string | null;
  capacity: number;
  running: number;
  labels: string[];
  sandbox: "on" | "off" | "unavailable" | null;
  lastSeenAt: string | null;
  version: string | null;
  createdAt: string;
  cost: NodeCost | null;
}

const HOUR_MS = 3_600_000;

/** A cloud VM's cost so far: its price for every hour it was up, a started hour counting whole. */
export function costSoFar(
  node: { pricePerHour: number | null; currency: string | null; createdAt: Date; destroyedAt: Date | null },
  now = new Date(),
): NodeCost | null {
  if (node.pricePerHour === null || !node.currency) return null;
  const end = node.destroyedAt ?? now;
  const hours = Math.max(1, Math.ceil((end.getTime() - node.createdAt.getTime()) / HOUR_MS));
  return {
    amount: Math.round(hours * node.pricePerHour * 10_000) / 10_000,
    currency: node.currency,
    since: node.createdAt.toISOString(),
  };
}

/** A stored label list; anything unreadable counts as no labels rather than breaking the list. */
export function parseLabels(json: string): string[] {
  try {
    const parsed = nodeLabelsSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

const onNodeList = sql.join(
  ON_NODE_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

function listStatus(status: (typeof nodes.$inferSelect)["status"], running: number): NodeListStatus {
  if (status === "ready" || status === "warm") return running > 0 ? "busy" : "ready";
  return status;
}

const later = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

/**
 * The nodes, newest first, with the tasks each holds now. Destroyed nodes (removed, or cloud VMs
 * deleted) are left out unless `all`.
 */
export async function listNodes(db: Db, opts: { all?: boolean } = {}): Promise<NodeListEntry[]> {
  const rows = await db
    .select({
      node: nodes,
      // Spelled out: drizzle writes a column of the one selected table without its table's name.
      running: sql<number>`(SELECT count(*) FROM tasks t WHERE t.node_id = nodes.id AND t.status IN (${onNodeList}))`,
    })
    .from(nodes)
    .where(opts.all ? undefined : ne(nodes.status, "destroyed"))
    .orderBy(desc(nodes.createdAt), nodes.id);
  const now = new Date();
  return rows.map(({ node, running }) => {
    const count = Number(running);
    return {
      id: node.id,
      name: node.name,
      kind: node.provider,
      status: listStatus(node.status, count),
      statusReason: node.statusReason,
      capacity: node.capacity,
      running: count,
      labels: parseLabels(node.labels),
      sandbox: node.sandbox,
      lastSeenAt: later(node.lastHeartbeatAt, node.channelConnectedAt)?.toISOString() ?? null,
      version: node.version,
      createdAt: node.createdAt.toISOString(),
      cost: costSoFar(node, now),
    };
  });
}
