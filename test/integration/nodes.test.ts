import { randomBytes } from "node:crypto";
import path from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { inboxMessages, nodes, tasks } from "@/db/schema";
import { loadConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";
import { declareNodeLost, recordHeartbeat, sweepLostNodes } from "@/lib/nodes/lost-nodes";
import { drainNode, idleDrainingNodes, removeNode } from "@/lib/nodes/manage";
import { authenticateNodeToken, mintNodeToken } from "@/lib/nodes/node-tokens";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { createProject, updateProjectSettings } from "@/lib/projects/projects";
import { tick } from "@/lib/scheduler/tick";
import { createTask } from "@/lib/tasks/create-task";
import { taskDetails } from "@/lib/tasks/show-task";
import { transitionTask } from "@/lib/tasks/transition";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { runSam } from "../helpers/cli";
import { makeTestDb } from "../helpers/db";
import { freePort } from "../helpers/free-port";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

// Node tokens are stored encrypted with the instance key; this test's instance has its own.
process.env.SAM_SECRET_KEY = randomBytes(32).toString("hex");

let db: Db;
let dir: string;
let owner: User;
let repo: string;
let deadUrl: string;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  const testDb = await makeTestDb();
  const repos = makeTempDir("sam-nodes-repos-");
  cleanups.push(testDb.cleanup, repos.cleanup);
  db = testDb.db;
  dir = testDb.dir;
  owner = await ensureInstanceOwner(db);
  repo = makeGitRepo(path.join(repos.dir, "repo"));
  // Nodes in this test have no daemon: a start sent to them fails at once (nothing listens there).
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});
afterAll(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
});

/** The scheduler as a web app runs it, starting no local node. */
const config = () => loadConfig({ SAM_DATA_DIR: dir, SAM_LOCAL_NODES: "0", SAM_NODE_TIMEOUT_MS: "60000" });

async function runTick() {
  const result = await tick(db, config(), "http://127.0.0.1:1");
  await Promise.all(result.starts);
  return result;
}

let counter = 0;
async function addNode(values: Partial<typeof nodes.$inferInsert> = {}): Promise<string> {
  counter += 1;
  const id = values.id ?? `node-${counter.toString().padStart(4, "0")}-${randomBytes(6).toString("hex")}`;
  await db.insert(nodes).values({
    name: `n${counter}`,
    // Local by default: the web app calls it over HTTP, and a start fails at once on the dead address.
    provider: "local",
    status: "ready",
    capacity: 2,
    url: deadUrl,
    lastHeartbeatAt: new Date(),
    ...values,
    id,
  });
  return id;
}

async function newProject(nodeLabels: string[] = []) {
  const project = await createProject(db, owner.id, { repo });
  if (nodeLabels.length > 0) await updateProjectSettings(db, owner.id, project.id, { nodeLabels });
  return project.id;
}

/** A task of the project running on the node, as the scheduler and its start leave it. */
async function runningTask(projectId: string, nodeId: string): Promise<string> {
  const task = await createTask(db, owner.id, { projectId, prompt: "Work.", mode: "task" });
  await putOnNode(task.id, nodeId);
  return task.id;
}

async function putOnNode(taskId: string, nodeId: string) {
  const actor = { kind: "system" as const };
  expect(await transitionTask(db, { taskId, from: ["queued"], to: "provisioning", actor, set: { nodeId } })).toBe(true);
  expect(await transitionTask(db, { taskId, from: ["provisioning"], to: "running", actor })).toBe(true);
}

async function taskRow(id: string) {
  const row = await db.query.tasks.findFirst({ where: eq(tasks.id, id) });
  if (!row) throw new Error(`no task ${id}`);
  return row;
}

/** Puts every live node but `keep` out of the way, so each test places on its own nodes only. */
async function onlyNodes(...keep: string[]) {
  const others = (await db.select({ id: nodes.id }).from(nodes)).map((n) => n.id).filter((id) => !keep.includes(id));
  if (others.length > 0) await db.update(nodes).set({ status: "destroyed" }).where(inArray(nodes.id, others));
}

const sam = (args: string[]) => runSam(args, { SAM_DATA_DIR: dir });

describe("sam node list", () => {
  it("gives each node's kind, status (busy = running work), running/capacity, labels, last seen, version and a cloud VM's cost; removed nodes only with --all", async () => {
    await onlyNodes();
    const projectId = await newProject();
    const seen = new Date(Date.now() - 5_000);
    const channelSeen = new Date(Date.now() - 1_000);
    const idle = await addNode({ provider: "local", labels: '["fast"]', sandbox: "on", version: "1.2.3" });
    const busy = await addNode({
      provider: "joined",
      lastHeartbeatAt: seen,
      channelConnectedAt: channelSeen,
      capacity: 3,
    });
    const createdAt = new Date(Date.now() - 90 * 60_000);
    const cloud = await addNode({
      provider: "hetzner",
      status: "draining",
      pricePerHour: 0.0119,
      currency: "EUR",
      createdAt,
    });
    const lost = await addNode({ status: "lost", statusReason: "node lost" });
    const warm = await addNode({ status: "warm" });
    const gone = await addNode({ status: "destroyed", destroyedAt: new Date() });
    await runningTask(projectId, busy);

    const listed = await sam(["node", "list", "--json"]);
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout) as Record<string, unknown>[];
    const byId = new Map(list.map((n) => [n.id as string, n]));
    expect(byId.has(gone)).toBe(false);
    expect(byId.get(idle)).toMatchObject({
      kind: "local",
      status: "ready",
      capacity: 2,
      running: 0,
      labels: ["fast"],
      sandbox: "on",
      version: "1.2.3",
      cost: null,
    });
    for (const key of [
      "id",
      "name",
      "kind",
      "status",
      "capacity",
      "running",
      "labels",
      "sandbox",
      "lastSeenAt",
      "version",
    ]) {
      expect(byId.get(idle)).toHaveProperty(key);
    }
    // lastSeenAt is the later of the last heartbeat and the channel's last connection.
    expect(byId.get(busy)).toMatchObject({ kind: "joined", status: "busy", running: 1, capacity: 3 });
    expect(byId.get(busy)?.lastSeenAt).toBe(channelSeen.toISOString());
    // Up 90 minutes: two started hours.
    expect(byId.get(cloud)).toMatchObject({
      kind: "hetzner",
      status: "draining",
      cost: { amount: 0.0238, currency: "EUR", since: createdAt.toISOString() },
    });
    expect(byId.get(lost)).toMatchObject({ status: "lost", statusReason: "node lost" });
    expect(byId.get(warm)).toMatchObject({ status: "ready" });

    const all = JSON.parse((await sam(["node", "list", "--all", "--json"])).stdout) as { id: string; status: string }[];
    expect(all.find((n) => n.id === gone)?.status).toBe("destroyed");
  });
});

describe("drain", () => {
  it("a drained node gets no new work, its running task goes on and finishes, and it stays draining once idle", async () => {
    await onlyNodes();
    const projectId = await newProject();
    const node = await addNode();
    const running = await runningTask(projectId, node);

    const drained = await sam(["node", "drain", node.slice(0, 12), "--json"]);
    expect(drained.stderr).toBe("");
    expect(JSON.parse(drained.stdout)).toMatchObject({ id: node, status: "draining", running: 1 });

    const queued = await createTask(db, owner.id, { projectId, prompt: "More work.", mode: "task" });
    const result = await runTick();
    expect(result.claimed).not.toContain(queued.id);
    expect((await taskRow(queued.id)).status).toBe("queued");
    expect((await taskRow(running)).status).toBe("running");

    await transitionTask(db, {
      taskId: running,
      from: ["running"],
      to: "completed",
      actor: { kind: "system" },
      set: { summary: "done" },
    });
    await runTick();
    expect((await db.query.nodes.findFirst({ where: eq(nodes.id, node) }))?.status).toBe("draining");
    expect((await taskRow(queued.id)).status).toBe("queued");
    expect((await idleDrainingNodes(db)).map((n) => n.id)).toContain(node);
    // Cancel it, so it does not wait for a node in later tests.
    await transitionTask(db, { taskId: queued.id, from: ["queued"], to: "cancelled", actor: { kind: "system" } });
  });

  it("names what is wrong: an unknown node, a short id, a removed node", async () => {
    const unknown = await sam(["node", "drain", "ffffffff-0000"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No node ffffffff-0000/);
    const short = await sam(["node", "drain", "abc"]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 8 characters/);
    const removed = await addNode({ status: "destroyed" });
    const again = await sam(["node", "drain", removed]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/is removed; only a live node can be drained/);
    const removeAgain = await sam(["node", "remove", removed]);
    expect(removeAgain.stderr).toMatch(/already removed/);
  });

  it("only the instance admin drains or removes a node", async () => {
    const node = await addNode();
    const user = await createLocalUser(db, { email: `someone-${randomBytes(4).toString("hex")}@example.com` });
    await expect(drainNode(db, { userId: user.id }, node)).rejects.toMatchObject({ code: "forbidden" });
    await expect(removeNode(db, { userId: user.id }, node)).rejects.toMatchObject({ code: "forbidden" });
    expect((await db.query.nodes.findFirst({ where: eq(nodes.id, node) }))?.status).toBe("ready");
  });
});

describe("remove", () => {
  it("revokes the node's credential in the same step: the token that worked a moment ago is refused, even a heartbeat", async () => {
    await onlyNodes();
    const projectId = await newProject();
    const node = await addNode();
    const { token } = await mintNodeToken(db, node);
    const other = await addNode();
    const running = await runningTask(projectId, node);
    expect((await authenticateNodeToken(db, `Bearer ${token}`)).id).toBe(node);

    const removed = await removeNode(db, "operator", node.slice(0, 10));
    expect(removed.status).toBe("destroyed");
    const refused = await authenticateNodeToken(db, `Bearer ${token}`).catch((err: unknown) => err);
    expect(SamError.is(refused) && refused.code).toBe("unauthenticated");
    // A heartbeat that got past authentication just before still cannot bring the node back.
    expect(await recordHeartbeat(db, node, deadUrl)).toBe(false);
    expect((await db.query.nodes.findFirst({ where: eq(nodes.id, node) }))?.status).toBe("destroyed");

    // Its task failed with the reason and was re-queued as a new attempt, which goes elsewhere.
    const failed = await taskRow(running);
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toMatch(/^node removed/);
    expect(removed.requeued).toHaveLength(1);
    const retry = await taskRow(removed.requeued[0]!);
    expect(retry).toMatchObject({ status: "queued", retryOfId: running, lineageId: failed.lineageId, retryCount: 1 });
    const result = await runTick();
    expect(result.claimed).toContain(retry.id);
    expect((await taskRow(retry.id)).nodeId).toBe(other);
  });
});

describe("placement", () => {
  it("a project that requires labels runs only on a node with all of them; with none such its task waits and says why", async () => {
    await onlyNodes();
    const projectId = await newProject(["gpu", "eu"]);
    const plain = await addNode({ labels: "[]" });
    const half = await addNode({ labels: '["gpu"]' });
    const task = await createTask(db, owner.id, { projectId, prompt: "Needs a GPU in the EU.", mode: "task" });

    const first = await runTick();
    expect(first.claimed).not.toContain(task.id);
    const details = await taskDetails(db, await taskRow(task.id));
    expect(details.placementWait).toMatch(/gpu, eu/);
    const shown = JSON.parse((await sam(["task", "show", task.id, "--json"])).stdout) as Record<string, unknown>;
    expect(shown).toHaveProperty("nodeId", null);
    expect(shown.placementWait).toMatch(/gpu, eu/);

    const both = await addNode({ labels: '["eu","gpu","x86"]' });
    const second = await runTick();
    expect(second.claimed).toContain(task.id);
    const placed = await taskRow(task.id);
    expect(placed.nodeId).toBe(both);
    expect([plain, half]).not.toContain(placed.nodeId);
    const json = JSON.parse((await sam(["task", "show", task.id, "--json"])).stdout) as { nodeId: string };
    expect(json.nodeId).toBe(both);
  });

  it("prefers a warm node of the right labels, then the least loaded", async () => {
    await onlyNodes();
    const projectId = await newProject();
    const busyReady = await addNode({ capacity: 4 });
    const idleReady = await addNode({ capacity: 4, status: "warm", labels: '["other"]' });
    await runningTask(projectId, busyReady);
    // Both have room; the warm one is reused first.
    const a = await createTask(db, owner.id, { projectId, prompt: "A.", mode: "task" });
    await runTick();
    expect((await taskRow(a.id)).nodeId).toBe(idleReady);

    // No warm node left: the least loaded of the ready ones.
    await onlyNodes();
    const loaded = await addNode({ capacity: 4 });
    const light = await addNode({ capacity: 4 });
    await runningTask(projectId, loaded);
    await runningTask(projectId, loaded);
    await runningTask(projectId, light);
    const b = await createTask(db, owner.id, { projectId, prompt: "B.", mode: "task" });
    await runTick();
    expect((await taskRow(b.id)).nodeId).toBe(light);
  });

  it("a joined node whose command channel is closed gets no new work, even warm and idle", async () => {
    await onlyNodes();
    const projectId = await newProject();
    await addNode({ provider: "joined", url: null, status: "warm", capacity: 4, channelOpen: false });
    const a = await createTask(db, owner.id, { projectId, prompt: "A.", mode: "task" });
    const alone = await runTick();
    expect(alone.claimed).not.toContain(a.id);
    expect(await taskRow(a.id)).toMatchObject({ status: "queued", nodeId: null });

    // A local node with room takes it instead (its dead address fails the start at once).
    const local = await addNode({ capacity: 1 });
    const withLocal = await runTick();
    expect(withLocal.claimed).toContain(a.id);
    expect((await taskRow(a.id)).nodeId).toBe(local);
  });

  it("an idle joined machine is never retired by the warm period, while an idle local node is", async () => {
    await onlyNodes();
    const joined = await addNode({ provider: "joined", url: null });
    const local = await addNode({ provider: "local" });
    const warmZero = () => loadConfig({ SAM_DATA_DIR: dir, SAM_LOCAL_NODES: "0", SAM_WARM_MINUTES: "0" });
    // First pass: idle nodes turn warm (for no time at all); second pass: expired warm nodes retire.
    await tick(db, warmZero(), "http://127.0.0.1:1");
    await tick(db, warmZero(), "http://127.0.0.1:1");
    const status = async (id: string) => (await db.query.nodes.findFirst({ where: eq(nodes.id, id) }))?.status;
    expect(await status(local)).toBe("destroyed");
    expect(await status(joined)).toBe("ready");
  });

  it("concurrent ticks never place a task on a node without its labels, nor past a node's capacity", async () => {
    await onlyNodes();
    const labelled = await newProject(["ssd"]);
    const any = await newProject();
    const ssd = await addNode({ labels: '["ssd"]', capacity: 3 });
    const plain = await addNode({ capacity: 3 });
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        createTask(db, owner.id, { projectId: i % 2 === 0 ? labelled : any, prompt: `T${i}.`, mode: "task" }),
      ),
    );
    const results = await Promise.all([runTick(), runTick(), runTick()]);
    const claimed = results.flatMap((r) => r.claimed);
    expect(new Set(claimed).size).toBe(claimed.length);
    const rows = await db
      .select()
      .from(tasks)
      .where(
        inArray(
          tasks.id,
          created.map((t) => t.id),
        ),
      );
    for (const row of rows) {
      if (row.projectId === labelled && row.nodeId) expect(row.nodeId).toBe(ssd);
    }
    const onNode = (id: string) => rows.filter((r) => r.nodeId === id).length;
    expect(onNode(ssd)).toBeLessThanOrEqual(3);
    expect(onNode(plain)).toBeLessThanOrEqual(3);
    expect(rows.filter((r) => r.projectId === labelled && r.nodeId).length).toBeGreaterThan(0);
  });
});

describe("lost nodes", () => {
  it("a joined node silent (no heartbeat, no channel) past the timeout is lost: its task fails with `node lost` and is re-queued once, even with two schedulers sweeping at once", async () => {
    await onlyNodes();
    const projectId = await newProject();
    const stale = new Date(Date.now() - 120_000);
    const silent = await addNode({ provider: "joined", lastHeartbeatAt: stale, channelConnectedAt: stale });
    // Its heartbeats stopped, but its channel connected just now: alive.
    const channelOnly = await addNode({ provider: "joined", lastHeartbeatAt: stale, channelConnectedAt: new Date() });
    const healthy = await addNode({ capacity: 4 });
    const root = await runningTask(projectId, silent);
    const parent = await runningTask(projectId, healthy);
    const child = await dispatchTask(db, { taskId: parent, projectId }, { description: "A child.", mode: "task" });
    await putOnNode(child.taskId, silent);

    const counts = await Promise.all([
      sweepLostNodes(db, 60_000),
      sweepLostNodes(db, 60_000),
      sweepLostNodes(db, 60_000),
    ]);
    expect(counts.some((n) => n > 0)).toBe(true);
    expect((await db.query.nodes.findFirst({ where: eq(nodes.id, silent) }))?.status).toBe("lost");
    expect((await db.query.nodes.findFirst({ where: eq(nodes.id, channelOnly) }))?.status).toBe("ready");

    for (const lostTask of [root, child.taskId]) {
      const failed = await taskRow(lostTask);
      expect(failed).toMatchObject({ status: "failed", failureReason: "node lost" });
      const retries = await db.select().from(tasks).where(eq(tasks.retryOfId, lostTask));
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({
        status: "queued",
        lineageId: failed.lineageId,
        retryCount: 1,
        parentId: failed.parentId,
      });
      expect(retries[0]!.description).toMatch(/Failure reason: node lost/);
    }
    // The parent is told in the message that tells it the child failed.
    const told = await db
      .select()
      .from(inboxMessages)
      .where(and(eq(inboxMessages.taskId, parent), eq(inboxMessages.senderTaskId, child.taskId)));
    expect(told).toHaveLength(1);
    expect(told[0]!.body).toMatch(/already retried it on another node as/);

    // Declared lost again (the hold of a local node, a late sweep): nothing more happens.
    await declareNodeLost(db, silent, "node lost");
    expect(await db.select().from(tasks).where(eq(tasks.retryOfId, root))).toHaveLength(1);

    // The new attempt runs on another node.
    const retry = (await db.select().from(tasks).where(eq(tasks.retryOfId, root)))[0]!;
    await onlyNodes(healthy);
    await runTick();
    expect((await taskRow(retry.id)).nodeId).toBe(healthy);
  });

  it("a task failed with its node but not re-queued (the process stopped in between) is re-queued by the next sweep, once", async () => {
    await onlyNodes();
    const projectId = await newProject();
    const gone = await addNode({ status: "lost" });
    await addNode();
    const task = await runningTask(projectId, gone);
    // Failed as the sweep fails it, and nothing more: the process stopped before the new attempt.
    await transitionTask(db, {
      taskId: task,
      from: ["running"],
      to: "failed",
      actor: { kind: "system" },
      reason: "node lost",
      set: { failureReason: "node lost" },
    });
    await Promise.all([sweepLostNodes(db, 60_000), sweepLostNodes(db, 60_000)]);
    await sweepLostNodes(db, 60_000);
    const retries = await db.select().from(tasks).where(eq(tasks.retryOfId, task));
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ status: "queued", retryCount: 1 });
  });

  it("re-queueing respects the lineage's retry limit", async () => {
    await onlyNodes();
    const projectId = await newProject();
    await updateProjectSettings(db, owner.id, projectId, { maxRetries: 1 });
    const first = await addNode();
    const second = await addNode();
    const task = await runningTask(projectId, first);
    await declareNodeLost(db, first, "node lost");
    const retry = (await db.select().from(tasks).where(eq(tasks.retryOfId, task)))[0]!;
    await putOnNode(retry.id, second);
    await declareNodeLost(db, second, "node lost");
    expect((await taskRow(retry.id)).status).toBe("failed");
    expect(await db.select().from(tasks).where(eq(tasks.retryOfId, retry.id))).toHaveLength(0);
  });
});

describe("a project's node labels", () => {
  it("are checked with the node label rule wherever they are set: the API's schema and sam project configure", async () => {
    const projectId = await newProject();
    const refused = await updateProjectSettings(db, owner.id, projectId, { nodeLabels: ["GPU!"] }).catch(
      (err: unknown) => err,
    );
    expect(SamError.is(refused) && refused.details?.fields?.[0]?.field).toBe("nodeLabels");
    const bad = await sam(["project", "configure", projectId, "--node-labels", "ok,Not Ok"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--node-labels: .*lowercase/);
    const set = await sam(["project", "configure", projectId, "--node-labels", "gpu, eu", "--json"]);
    expect(set.stderr).toBe("");
    expect(JSON.parse(set.stdout)).toMatchObject({ nodeLabels: ["gpu", "eu"] });
    const cleared = await sam(["project", "configure", projectId, "--node-labels", "", "--json"]);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ nodeLabels: [] });
  });
});
