/**
 * Cloud VMs as nodes: created when queued work finds no room (and to keep a warm pool), kept warm
 * while idle, deleted after. Every creation is a guarded INSERT of the node row first, so ticks
 * running at once, in one process or many, create only what the work needs and never more than the
 * settings' max VMs. Failures back off exponentially and are recorded on the settings.
 */
import { and, eq, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { cloudSettings, nodeJoinTokens, nodes, tasks } from "@/db/schema";
import type { SamConfig } from "../../config";
import { SamError } from "../../errors";
import { newId } from "../../ids";
import { instanceSecretKey } from "../../secrets/instance-key";
import { ON_NODE_STATUSES } from "../../tasks/statuses";
import { daemonBundle } from "../daemon-bundle";
import { mintJoinToken } from "../join";
import { declareNodeLost } from "../lost-nodes";
import { cloudInitUserData } from "./cloud-init";
import { HetznerApi, HetznerApiError, serverIdOf } from "./hetzner-api";
import { type CloudSettingsRow, cloudTokenOf, labelsOf } from "./settings";

const LIVE = ["provisioning", "ready", "warm", "draining"] as const;
// Booting, installing Node.js and joining; the join token lives as long.
const JOIN_TIMEOUT_MINUTES = 30;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 30 * 60_000;
// How often VMs that carry a settings' label but no live node (a creation whose answer was lost)
// are looked for; and how long a failed deletion waits before it is tried again.
const ORPHAN_SCAN_MS = 5 * 60_000;
const DELETE_RETRY_MS = 60_000;
// A create call answers within its timeout (30 s); a node row still without a server after this never got one.
const UNFINISHED_CREATE_MS = 5 * 60_000;

const onNodeList = sql.join(
  ON_NODE_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);
/** The node holds no task (no share of its capacity taken, and none waiting on it). */
const idleNode = sql`NOT EXISTS (SELECT 1 FROM tasks t WHERE t.node_id = nodes.id AND t.status IN (${onNodeList}))`;

// Per process: when each settings' VMs were last listed, and when a failed deletion may be tried again.
const globalForCloud = globalThis as unknown as {
  __samCloud?: { scannedAt: Map<string, number>; deleteAfter: Map<string, number> };
};
function memory() {
  globalForCloud.__samCloud ??= { scannedAt: new Map(), deleteAfter: new Map() };
  return globalForCloud.__samCloud;
}

function apiFor(db: Db, row: CloudSettingsRow): Promise<HetznerApi> {
  return cloudTokenOf(db, instanceSecretKey(), row).then((token) => new HetznerApi(token));
}

function inBackoff(row: CloudSettingsRow, now: number): boolean {
  return row.backoffUntil !== null && row.backoffUntil.getTime() > now;
}

/** A failure of creating a VM: counted, backed off exponentially, and said on the settings. */
async function recordFailure(db: Db, settingsId: string, message: string): Promise<void> {
  const now = Date.now();
  const [row] = await db
    .update(cloudSettings)
    .set({
      failures: sql`${cloudSettings.failures} + 1`,
      lastError: message.slice(0, 2000),
      lastErrorAt: new Date(now),
    })
    .where(eq(cloudSettings.id, settingsId))
    .returning({ failures: cloudSettings.failures });
  const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, (row?.failures ?? 1) - 1));
  await db
    .update(cloudSettings)
    .set({ backoffUntil: new Date(now + wait) })
    .where(eq(cloudSettings.id, settingsId));
  console.error(`sam: cloud VM not created (retry in ${Math.round(wait / 1000)} s): ${message}`);
}

/** The web app as a VM reaches it: SAM_PUBLIC_URL, which must not be this machine's loopback. */
function reachableWebUrl(config: SamConfig): string {
  const host = new URL(config.publicUrl).hostname;
  if (host === "localhost" || host.startsWith("127.") || host === "[::1]") {
    throw new SamError(
      "invalid_input",
      `VMs cannot reach the web app at ${config.publicUrl}: set SAM_PUBLIC_URL to an address they can reach`,
    );
  }
  return config.publicUrl;
}

/**
 * Creates one VM for the settings if the guard allows it: fewer live VMs than max, and fewer
 * places coming (VMs still starting) than `wanted`. Returns the node id, or undefined when the
 * guard said no. `coming` counts what a VM starting now adds toward `wanted`: places for work, or
 * one VM for the warm pool.
 */
async function createVm(
  db: Db,
  config: SamConfig,
  row: CloudSettingsRow,
  wanted: number,
  coming: "places" | "vms",
): Promise<string | undefined> {
  // What does not depend on the VM is checked first: a misconfiguration leaves no node behind.
  let ready: { api: HetznerApi; webUrl: string; bundleSha256: string };
  try {
    const [api, bundle] = await Promise.all([apiFor(db, row), daemonBundle(config.dataDir)]);
    ready = { api, webUrl: reachableWebUrl(config), bundleSha256: bundle.sha256 };
  } catch (err) {
    await recordFailure(db, row.id, err instanceof Error ? err.message : String(err));
    return undefined;
  }
  const nodeId = newId();
  const name = `sam-${nodeId.slice(0, 8)}`;
  const now = Date.now();
  const comingSql =
    coming === "places"
      ? sql`(SELECT coalesce(sum(capacity), 0) FROM nodes WHERE cloud_settings_id = ${row.id} AND status = 'provisioning')`
      : sql`(SELECT count(*) FROM nodes WHERE cloud_settings_id = ${row.id} AND (status = 'provisioning'
          OR (status IN ('ready', 'warm') AND ${idleNode})))`;
  // Invariant: never more live VMs than max, never more starting than the work (or pool) needs, and
  // nothing while the settings are disabled or backing off.
  const inserted = await db.run(sql`
    INSERT INTO nodes (id, name, provider, status, capacity, labels, cloud_settings_id)
    SELECT ${nodeId}, ${name}, 'hetzner', 'provisioning', cs.capacity, cs.labels, cs.id
    FROM cloud_settings cs
    WHERE cs.id = ${row.id} AND cs.enabled = 1 AND (cs.backoff_until IS NULL OR cs.backoff_until <= ${now})
      AND (SELECT count(*) FROM nodes WHERE cloud_settings_id = cs.id AND status IN ('provisioning', 'ready', 'warm', 'draining'))
        < cs.max_vms
      AND ${comingSql} < ${wanted}`);
  if (inserted.rowsAffected === 0) return undefined;

  const { api } = ready;
  try {
    const join = await mintJoinToken(db, {
      labels: labelsOf(row),
      ttlMinutes: JOIN_TIMEOUT_MINUTES,
      cloudSettingsId: row.id,
      nodeId,
    });
    const userData = cloudInitUserData({
      webUrl: ready.webUrl,
      bundleSha256: ready.bundleSha256,
      joinToken: join.token,
      nodeName: name,
      capacity: row.capacity,
      labels: labelsOf(row),
    });
    const server = await api.createServer({
      name,
      serverType: row.serverType,
      image: row.image,
      location: row.location,
      userData,
      labels: { "sam-managed": "true", "sam-settings": row.id, "sam-node": nodeId },
    });
    // The cost so far is shown from this; a price that cannot be read leaves it unknown.
    const price = await api.hourlyPrice(row.serverType, row.location).catch(() => undefined);
    const saved = await db
      .update(nodes)
      .set({ providerRef: String(server.id), pricePerHour: price?.perHour ?? null, currency: price?.currency ?? null })
      .where(and(eq(nodes.id, nodeId), inArray(nodes.status, [...LIVE])))
      .returning({ id: nodes.id });
    // Lost or removed while it was being created: its VM goes at once.
    if (saved.length === 0) await api.deleteServer(server.id);
    await db.update(cloudSettings).set({ failures: 0, backoffUntil: null }).where(eq(cloudSettings.id, row.id));
    return nodeId;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await db
      .update(nodes)
      .set({ status: "destroyed", statusReason: `VM not created: ${message}`.slice(0, 2000), destroyedAt: new Date() })
      .where(and(eq(nodes.id, nodeId), eq(nodes.status, "provisioning")));
    await db.update(nodeJoinTokens).set({ expiresAt: new Date() }).where(eq(nodeJoinTokens.nodeId, nodeId));
    await recordFailure(db, row.id, message);
    return undefined;
  }
}

/** The settings a task's VMs come from: its project's own, else the instance's. */
function settingsFor(rows: CloudSettingsRow[], projectId: string): CloudSettingsRow | undefined {
  return rows.find((r) => r.projectId === projectId) ?? rows.find((r) => r.projectId === null);
}

/**
 * Creates VMs for queued tasks that found no node with room: per settings, as many as the tasks
 * need (the settings' labels must include each task's required labels), within max VMs. Returns the
 * new nodes' ids.
 */
export async function provisionCloudNodes(
  db: Db,
  config: SamConfig,
  unplaced: readonly { id: string; labels: readonly string[] }[],
): Promise<string[]> {
  if (unplaced.length === 0) return [];
  const rows = await db.select().from(cloudSettings);
  if (rows.length === 0) return [];
  const now = Date.now();
  const projectOf = new Map(
    (
      await db
        .select({ id: tasks.id, projectId: tasks.projectId })
        .from(tasks)
        .where(
          and(
            inArray(
              tasks.id,
              unplaced.map((t) => t.id),
            ),
            eq(tasks.status, "queued"),
          ),
        )
    ).map((t) => [t.id, t.projectId]),
  );
  const demand = new Map<string, { row: CloudSettingsRow; places: number }>();
  for (const task of unplaced) {
    const projectId = projectOf.get(task.id);
    const row = projectId ? settingsFor(rows, projectId) : undefined;
    if (!row?.enabled || inBackoff(row, now)) continue;
    const offered = labelsOf(row);
    if (!task.labels.every((l) => offered.includes(l))) continue;
    const entry = demand.get(row.id) ?? { row, places: 0 };
    entry.places++;
    demand.set(row.id, entry);
  }
  const created: string[] = [];
  for (const { row, places } of demand.values()) {
    for (let i = 0; i < Math.ceil(places / row.capacity); i++) {
      const nodeId = await createVm(db, config, row, places, "places");
      if (!nodeId) break;
      created.push(nodeId);
    }
  }
  return created;
}

/** Deletes the VM of a node that is gone (lost, removed, retired); the node keeps its history. */
async function deleteVmOf(db: Db, node: typeof nodes.$inferSelect, row: CloudSettingsRow | undefined) {
  const serverId = serverIdOf(node.providerRef);
  const retry = memory().deleteAfter;
  if ((retry.get(node.id) ?? 0) > Date.now()) return;
  try {
    if (serverId !== undefined) {
      if (!row) throw new SamError("not_found", "its cloud settings are gone, and with them the API token");
      await (await apiFor(db, row)).deleteServer(serverId);
    }
    retry.delete(node.id);
    await db
      .update(nodes)
      .set({ providerRef: null, destroyedAt: sql`coalesce(${nodes.destroyedAt}, ${Date.now()})` })
      .where(eq(nodes.id, node.id));
  } catch (err) {
    retry.set(node.id, Date.now() + DELETE_RETRY_MS);
    console.error(`sam: could not delete the VM of node ${node.name}: ${(err as Error).message}`);
  }
}

/** VMs labelled with the settings whose node is not live: created, but their node never got the answer. */
async function deleteOrphans(db: Db, row: CloudSettingsRow): Promise<void> {
  const scanned = memory().scannedAt;
  if ((scanned.get(row.id) ?? 0) + ORPHAN_SCAN_MS > Date.now()) return;
  scanned.set(row.id, Date.now());
  try {
    const api = await apiFor(db, row);
    const servers = await api.listServers(`sam-settings=${row.id}`);
    if (servers.length === 0) return;
    const live = new Set(
      (
        await db
          .select({ id: nodes.id })
          .from(nodes)
          .where(and(eq(nodes.cloudSettingsId, row.id), inArray(nodes.status, [...LIVE])))
      ).map((n) => n.id),
    );
    for (const server of servers) {
      const nodeId = server.labels["sam-node"];
      if (nodeId && live.has(nodeId)) continue;
      await api.deleteServer(server.id);
      console.error(`sam: deleted VM ${server.name}: no live node of SAM's was made from it`);
    }
  } catch (err) {
    if (!(err instanceof HetznerApiError)) throw err;
    console.error(`sam: could not list the cloud VMs: ${err.message}`);
  }
}

/**
 * What each pass does for cloud VMs whatever the queue holds: VMs that never joined are lost;
 * drained idle VMs are retired; warm periods follow the settings (disabled settings keep nothing
 * warm) and the warm pool is kept; VMs of nodes that are gone are deleted; the warm pool is filled.
 */
export async function cloudUpkeep(db: Db, config: SamConfig): Promise<void> {
  const rows = await db.select().from(cloudSettings);
  // Without settings there are no VMs to keep, and no token to delete any with.
  if (rows.length === 0) return;
  const now = Date.now();
  // Built ahead, so the first VM is not held up by it.
  if (rows.some((r) => r.enabled)) daemonBundle(config.dataDir).catch(() => {});

  const neverJoined = await db
    .select({ id: nodes.id, settingsId: nodes.cloudSettingsId })
    .from(nodes)
    .where(
      and(
        eq(nodes.provider, "hetzner"),
        eq(nodes.status, "provisioning"),
        isNotNull(nodes.providerRef),
        lt(nodes.createdAt, new Date(now - JOIN_TIMEOUT_MINUTES * 60_000)),
      ),
    );
  for (const node of neverJoined) {
    const reason = `node failed to start: the VM did not join within ${JOIN_TIMEOUT_MINUTES} minutes`;
    await declareNodeLost(db, node.id, reason);
    if (node.settingsId) await recordFailure(db, node.settingsId, reason);
  }

  // A creation cut short (the web app stopped between the node row and the API's answer): the
  // node goes, and a VM the API did make is found by the label scan below.
  await db
    .update(nodes)
    .set({ status: "destroyed", statusReason: "VM creation did not finish", destroyedAt: new Date(now) })
    .where(
      and(
        eq(nodes.provider, "hetzner"),
        eq(nodes.status, "provisioning"),
        isNull(nodes.providerRef),
        lt(nodes.createdAt, new Date(now - UNFINISHED_CREATE_MS)),
      ),
    );

  // A drained VM that finished its work costs money for nothing.
  await db
    .update(nodes)
    .set({ status: "destroyed", statusReason: "drained" })
    .where(and(eq(nodes.provider, "hetzner"), eq(nodes.status, "draining"), idleNode));

  for (const row of rows) {
    const warmMs = row.enabled ? row.warmMinutes * 60_000 : 0;
    // A shorter warm period (or disabled settings) applies to VMs already warm.
    await db.run(sql`UPDATE nodes SET warm_until = min(coalesce(warm_until, ${now + warmMs}), ${now + warmMs})
      WHERE cloud_settings_id = ${row.id} AND status = 'warm'`);
    if (row.enabled && row.warmPool > 0) {
      // The pool's idle VMs stay past their warm period, the oldest first.
      await db.run(sql`UPDATE nodes SET warm_until = ${now + Math.max(warmMs, 60_000)}
        WHERE id IN (SELECT id FROM nodes WHERE cloud_settings_id = ${row.id} AND status = 'warm' AND ${idleNode}
          ORDER BY created_at LIMIT ${row.warmPool})`);
    }
  }

  const gone = await db
    .select()
    .from(nodes)
    .where(
      and(eq(nodes.provider, "hetzner"), inArray(nodes.status, ["lost", "destroyed"]), isNotNull(nodes.providerRef)),
    );
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const node of gone)
    await deleteVmOf(db, node, node.cloudSettingsId ? byId.get(node.cloudSettingsId) : undefined);

  for (const row of rows) {
    if (row.enabled && !inBackoff(row, now)) {
      for (let i = 0; i < row.warmPool; i++) {
        if (!(await createVm(db, config, row, row.warmPool, "vms"))) break;
      }
    }
    await deleteOrphans(db, row);
  }
}
