import { and, asc, eq, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes, projects, tasks } from "@/db/schema";
import type { SamConfig } from "../config";
import { emitTaskChanged } from "../events/bus";
import { cloudUpkeep, provisionCloudNodes } from "../nodes/cloud/provision";
import { parseLabels } from "../nodes/list";
import { stopLocalDaemon } from "../nodes/local-daemon-process";
import { adoptLocalNodes, provisionLocalNode } from "../nodes/local-provider";
import { sweepLostNodes } from "../nodes/lost-nodes";
import { retryAfterTurns } from "../orchestrator/after-turn";
import { deliverInbox } from "../orchestrator/inbox";
import { resendPendingStops } from "../orchestrator/stop";
import { settleOpenWaits } from "../orchestrator/waits";
import { syncGitHubInBackground } from "../pulls/github/sync";
import { ON_NODE_STATUSES, WAITING_STATUSES } from "../tasks/statuses";
import { transitionTask } from "../tasks/transition";
import { releaseEndedWorkspaces } from "./release-workspaces";
import { startClaimedTask } from "./start-task";

const STALE_PROVISIONING_MS = 5 * 60_000;
const onNodeList = sql.join(
  ON_NODE_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);
const waitingList = sql.join(
  WAITING_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/**
 * How many places of a node are taken: tasks on it, and tasks that ended but whose workspace the
 * node still holds (it is released just after the task ends). A task waiting on its children or a
 * person takes none: its agent is idle, and a tree must not starve its own children of a place.
 */
function nodeLoad(nodeId: SQL): SQL {
  return sql`(SELECT count(*) FROM tasks t2 WHERE t2.node_id = ${nodeId} AND t2.status NOT IN (${waitingList})
    AND (t2.status IN (${onNodeList})
      OR EXISTS (SELECT 1 FROM workspaces w WHERE w.task_id = t2.id AND w.status IN ('creating', 'ready'))))`;
}

/** A queued task is blocked while any task it depends on has not completed. */
export const UNBLOCKED = sql`NOT EXISTS (
  SELECT 1 FROM task_dependencies d JOIN tasks dep ON dep.id = d.depends_on_task_id
  WHERE d.task_id = tasks.id AND dep.status <> 'completed')`;

export interface TickResult {
  claimed: string[];
  lostNodes: number;
  provisionedNode?: string;
  /** The starts this tick began; they finish in the background. */
  starts: Promise<void>[];
}

interface NodeLoad {
  id: string;
  status: string;
  capacity: number;
  load: number;
  labels: string[];
}

/**
 * The nodes that may take work: ready or warm (never provisioning, draining, lost or destroyed); a
 * local node once its daemon's address is known; a joined or cloud node while its command channel is
 * open (it is reached over that channel, never at an address: a start sent while it is away would
 * wait, then fail, while another node had room).
 */
async function nodeLoads(db: Db): Promise<NodeLoad[]> {
  const rows = await db.all<Omit<NodeLoad, "labels"> & { labels: string }>(sql`
    SELECT n.id AS id, n.status AS status, n.capacity AS capacity, n.labels AS labels, ${nodeLoad(sql`n.id`)} AS load
    FROM nodes n WHERE n.status IN ('ready', 'warm')
      AND CASE WHEN n.provider = 'local' THEN n.url IS NOT NULL ELSE n.channel_open = 1 END`);
  return rows.map((r) => ({
    ...r,
    capacity: Number(r.capacity),
    load: Number(r.load),
    labels: parseLabels(r.labels),
  }));
}

/**
 * Where a task goes among the nodes with every label its project requires and a free place: a warm
 * node first (it is idle and kept for reuse), then the least loaded.
 */
export function pickNode(loads: NodeLoad[], required: readonly string[]): NodeLoad | undefined {
  let best: NodeLoad | undefined;
  for (const node of loads) {
    if (node.load >= node.capacity || !required.every((label) => node.labels.includes(label))) continue;
    if (!best || preferred(node, best)) best = node;
  }
  return best;
}

function preferred(a: NodeLoad, b: NodeLoad): boolean {
  if ((a.status === "warm") !== (b.status === "warm")) return a.status === "warm";
  return a.load < b.load;
}

/** The node has every label the task's project requires (JSON arrays on both rows). */
function hasRequiredLabels(nodeId: string): SQL {
  return sql`NOT EXISTS (
    SELECT 1 FROM json_each((SELECT node_labels FROM projects WHERE id = tasks.project_id)) r
    WHERE r.value NOT IN (SELECT value FROM json_each((SELECT labels FROM nodes WHERE id = ${nodeId}))))`;
}

/** Idle ready nodes turn warm; warm nodes past their warm period are retired; busy warm nodes are ready. */
async function updateWarmPool(db: Db, warmMs: number): Promise<void> {
  const now = Date.now();
  const idle = sql`${nodeLoad(sql`nodes.id`)} = 0`;
  // A cloud VM stays warm as long as its settings say.
  const warmFor = sql`coalesce((SELECT cs.warm_minutes * 60000 FROM cloud_settings cs WHERE cs.id = nodes.cloud_settings_id), ${warmMs})`;
  // A joined machine is its owner's to keep or remove: it never goes warm, so it is never retired.
  await db.run(
    sql`UPDATE nodes SET status = 'warm', warm_until = ${now} + ${warmFor}
      WHERE status = 'ready' AND provider <> 'joined' AND ${idle}`,
  );
  await db.run(sql`UPDATE nodes SET status = 'ready', warm_until = NULL WHERE status = 'warm' AND NOT ${idle}`);
  const expired = await db
    .update(nodes)
    .set({ status: "destroyed" })
    .where(and(eq(nodes.status, "warm"), lt(nodes.warmUntil, new Date(now)), sql`${idle}`))
    .returning({ id: nodes.id, provider: nodes.provider, providerRef: nodes.providerRef });
  for (const node of expired) if (node.provider === "local") stopLocalDaemon(node.id, node.providerRef);
}

async function failStaleProvisioning(db: Db): Promise<void> {
  const stale = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.status, "provisioning"), lt(tasks.updatedAt, new Date(Date.now() - STALE_PROVISIONING_MS))));
  for (const task of stale) {
    const reason = "provisioning did not finish (was the web app restarted while it ran?)";
    await transitionTask(db, {
      taskId: task.id,
      from: ["provisioning"],
      to: "failed",
      actor: { kind: "system" },
      reason,
      set: { failureReason: reason },
    });
  }
}

/**
 * Claims a queued task for a node, if the task is unblocked, the node is live, has every label the
 * task's project requires and a free place.
 */
function claim(db: Db, taskId: string, nodeId: string): Promise<boolean> {
  return transitionTask(db, {
    taskId,
    from: ["queued"],
    to: "provisioning",
    actor: { kind: "system" },
    set: { nodeId },
    // Invariant: dependencies gate execution, a task with a recorded stop never starts, a task runs
    // only on a node with its project's labels, and a node never holds more tasks than its capacity
    // (a draining, lost or removed node has none).
    guard: sql`${UNBLOCKED} AND stop_requested_at IS NULL AND ${hasRequiredLabels(nodeId)} AND ${nodeLoad(sql`${nodeId}`)}
      < (SELECT capacity FROM nodes WHERE id = ${nodeId} AND status IN ('ready', 'warm'))`,
  });
}

/** A queued task no node could take this pass, with the labels its project requires. */
export interface UnplacedTask {
  id: string;
  labels: string[];
}

/**
 * Starts new nodes for tasks that found no room: a local node for tasks that need no labels (local
 * nodes have none). Each kind of provisioning is one step here, and none fails the pass.
 */
async function provisionForUnplaced(
  db: Db,
  config: SamConfig,
  webUrl: string,
  unplaced: UnplacedTask[],
  result: TickResult,
): Promise<void> {
  if (unplaced.length === 0) return;
  let local: string | undefined;
  if (unplaced.some((t) => t.labels.length === 0)) {
    local = await provisionLocalNode(db, config, webUrl).catch((err: unknown) => {
      console.error(`sam: could not start a local node: ${(err as Error).message}`);
      return undefined;
    });
    if (local) {
      result.provisionedNode = local;
      // A new node can take work now; the next pass should not wait for the interval.
      emitTaskChanged({});
    }
  }
  // Cloud VMs for the rest (a new local node takes the tasks that need no labels); they take work
  // once they join.
  await provisionCloudNodes(db, config, local ? unplaced.filter((t) => t.labels.length > 0) : unplaced).catch(
    (err: unknown) => console.error(`sam: could not create cloud VMs: ${(err as Error).message}`),
  );
}

/**
 * One scheduling pass. Idempotent and safe to run concurrently, in one process or many: every claim
 * is a guarded UPDATE, so a task is started once and no node is overfilled.
 */
export async function tick(db: Db, config: SamConfig, webUrl: string): Promise<TickResult> {
  const result: TickResult = { claimed: [], lostNodes: 0, starts: [] };
  await adoptLocalNodes(db, config, webUrl);
  result.lostNodes = await sweepLostNodes(db, config.scheduler.nodeTimeoutMs);
  await failStaleProvisioning(db);
  // Pull requests on GitHub: opened there if not yet, merges, closes and comments made there.
  syncGitHubInBackground(db);
  // Messages and stops waiting for a session that can now take them, waits that are due, turns whose
  // end was not decided (a finish that did not reach the daemon), and workspaces of ended tasks
  // still on their nodes; a failure must not stop scheduling.
  await Promise.all([
    settleOpenWaits(db)
      .then(() => deliverInbox(db))
      .catch((err: unknown) => console.error(`sam: inbox delivery failed: ${(err as Error).message}`)),
    retryAfterTurns(db).catch((err: unknown) =>
      console.error(`sam: deciding ended turns failed: ${(err as Error).message}`),
    ),
    resendPendingStops(db).catch((err: unknown) =>
      console.error(`sam: resending stops failed: ${(err as Error).message}`),
    ),
    releaseEndedWorkspaces(db).catch((err: unknown) =>
      console.error(`sam: releasing workspaces failed: ${(err as Error).message}`),
    ),
  ]);
  await updateWarmPool(db, config.scheduler.warmMs);
  // Cloud VMs whatever the queue holds: the warm pool, and deleting VMs of nodes that are gone.
  await cloudUpkeep(db, config).catch((err: unknown) =>
    console.error(`sam: cloud VM upkeep failed: ${(err as Error).message}`),
  );

  const candidates = (
    await db
      .select({ id: tasks.id, nodeLabels: projects.nodeLabels })
      .from(tasks)
      .innerJoin(projects, eq(projects.id, tasks.projectId))
      .where(and(eq(tasks.status, "queued"), UNBLOCKED))
      .orderBy(asc(tasks.createdAt))
      .limit(200)
  ).map((c) => ({ id: c.id, labels: parseLabels(c.nodeLabels) }));
  if (candidates.length === 0) return result;

  const loads = await nodeLoads(db);
  const unplaced: UnplacedTask[] = [];
  for (const candidate of candidates) {
    const node = pickNode(loads, candidate.labels);
    if (!node) {
      unplaced.push(candidate);
      continue;
    }
    if (await claim(db, candidate.id, node.id)) {
      node.load++;
      result.claimed.push(candidate.id);
      if (node.status === "warm") {
        await db.update(nodes).set({ status: "ready", warmUntil: null }).where(eq(nodes.id, node.id));
        node.status = "ready";
      }
      result.starts.push(startClaimedTask(db, candidate.id, webUrl));
    } else {
      // Another tick took this task or the node's last place; look at the node again next pass.
      node.load = node.capacity;
    }
  }

  await provisionForUnplaced(db, config, webUrl, unplaced, result);
  return result;
}
