import { randomBytes } from "node:crypto";
import path from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { cloudSettings, nodeJoinTokens, nodes, tasks } from "@/db/schema";
import { loadConfig } from "@/lib/config";
import { setupScriptOf } from "@/lib/nodes/cloud/cloud-init";
import { HetznerApi } from "@/lib/nodes/cloud/hetzner-api";
import { cloudUpkeep, provisionCloudNodes } from "@/lib/nodes/cloud/provision";
import { clearCloudSettings, getCloudSettings, setCloudSettings } from "@/lib/nodes/cloud/settings";
import { daemonBundle } from "@/lib/nodes/daemon-bundle";
import { addMember, createProject, updateProjectSettings } from "@/lib/projects/projects";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { setSecret } from "@/lib/secrets/store";
import { createTask } from "@/lib/tasks/create-task";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { type HetznerFixture, startHetznerFixture } from "../helpers/hetzner-fixture";
import { makeTempDir } from "../helpers/temp-dir";

process.env.SAM_SECRET_KEY = randomBytes(32).toString("hex");

let db: Db;
let dir: string;
let owner: User;
let repo: string;
let fixture: HetznerFixture;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  const testDb = await makeTestDb();
  const repos = makeTempDir("sam-cloud-repos-");
  cleanups.push(testDb.cleanup, repos.cleanup);
  db = testDb.db;
  dir = testDb.dir;
  owner = await ensureInstanceOwner(db);
  repo = makeGitRepo(path.join(repos.dir, "repo"));
  fixture = await startHetznerFixture();
  process.env.SAM_HETZNER_API_URL = fixture.url;
});
afterAll(async () => {
  expect(fixture.violations).toEqual([]);
  await fixture.stop();
  for (const cleanup of cleanups.reverse()) cleanup();
});

// VMs reach the web app at this address (never loopback).
const config = () => loadConfig({ SAM_DATA_DIR: dir, SAM_LOCAL_NODES: "0", SAM_PUBLIC_URL: "http://10.99.0.1:3000" });

const instanceSettings = (extra: Record<string, unknown> = {}) =>
  setCloudSettings(db, instanceSecretKey(), owner.id, "instance", {
    token: fixture.token,
    serverType: "cx22",
    location: "fsn1",
    capacity: 2,
    maxVms: 3,
    warmPool: 0,
    enabled: true,
    labels: [],
    ...extra,
  });

async function queued(count: number, nodeLabels: string[] = []) {
  const project = await createProject(db, owner.id, { repo });
  if (nodeLabels.length > 0) await updateProjectSettings(db, owner.id, project.id, { nodeLabels });
  const ids: { id: string; labels: string[] }[] = [];
  for (let i = 0; i < count; i++) {
    const task = await createTask(db, owner.id, { projectId: project.id, prompt: `Work ${i}.`, mode: "task" });
    ids.push({ id: task.id, labels: nodeLabels });
  }
  return { projectId: project.id, tasks: ids };
}

const vmNodes = () =>
  db
    .select()
    .from(nodes)
    .where(and(eq(nodes.provider, "hetzner"), inArray(nodes.status, ["provisioning", "ready", "warm", "draining"])));

/** Every VM and queued task out of the way: each test starts from none. */
beforeEach(async () => {
  await db.update(nodes).set({ status: "destroyed" }).where(eq(nodes.provider, "hetzner"));
  if ((await db.select().from(cloudSettings)).length > 0) await cloudUpkeep(db, config());
  await db.update(tasks).set({ status: "cancelled" }).where(eq(tasks.status, "queued"));
  await db.delete(cloudSettings);
  fixture.servers.clear();
});

describe("cloud VMs for queued work", () => {
  it("creates one VM for work that found no room: a node row provisioning, the server's id and hourly price, a one-use join token in the user data", async () => {
    const settings = await instanceSettings();
    const { tasks: work } = await queued(1);
    const created = await provisionCloudNodes(db, config(), work);
    expect(created).toHaveLength(1);
    const [node] = await vmNodes();
    expect(node).toMatchObject({
      id: created[0],
      provider: "hetzner",
      status: "provisioning",
      capacity: 2,
      cloudSettingsId: settings.id,
      pricePerHour: 0.006,
      currency: "EUR",
    });
    const server = fixture.servers.get(Number(node?.providerRef));
    expect(server).toMatchObject({ serverType: "cx22", location: "fsn1", image: "debian-12" });
    expect(server?.labels).toEqual({ "sam-managed": "true", "sam-settings": settings.id, "sam-node": node?.id });
    const script = setupScriptOf(server?.userData ?? "");
    expect(script).toContain(`BUNDLE_SHA256='${(await daemonBundle(dir)).sha256}'`);
    expect(script).toContain("WEB_URL='http://10.99.0.1:3000'");
    const token = await db.query.nodeJoinTokens.findFirst({ where: eq(nodeJoinTokens.nodeId, node?.id ?? "") });
    expect(token).toMatchObject({ cloudSettingsId: settings.id, usedAt: null });
    expect(token?.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 30 * 60_000);

    // The same work again: the VM on its way covers it.
    expect(await provisionCloudNodes(db, config(), work)).toEqual([]);
    expect(fixture.servers.size).toBe(1);
  });

  it("ticks at once create only what the work needs, and never more than max VMs", async () => {
    await instanceSettings({ capacity: 2, maxVms: 3 });
    const { tasks: three } = await queued(3);
    await Promise.all(Array.from({ length: 4 }, () => provisionCloudNodes(db, config(), three)));
    expect(await vmNodes()).toHaveLength(2);

    const { tasks: many } = await queued(10);
    await Promise.all(Array.from({ length: 4 }, () => provisionCloudNodes(db, config(), [...three, ...many])));
    expect(await vmNodes()).toHaveLength(3);
    expect(fixture.servers.size).toBe(3);
  });

  it("work whose project requires labels the settings' VMs lack gets no VM", async () => {
    await instanceSettings({ labels: ["eu"] });
    const { tasks: gpu } = await queued(1, ["gpu"]);
    expect(await provisionCloudNodes(db, config(), gpu)).toEqual([]);
    const { tasks: eu } = await queued(1, ["eu"]);
    expect(await provisionCloudNodes(db, config(), eu)).toHaveLength(1);
    expect((await vmNodes())[0]?.labels).toBe('["eu"]');
  });

  it("a quota error backs off exponentially and is recorded on the settings; no request is made while it lasts", async () => {
    const settings = await instanceSettings();
    const { tasks: work } = await queued(1);
    fixture.failNext("POST /servers", {
      status: 403,
      code: "resource_limit_exceeded",
      message: "server limit reached",
    });
    const before = Date.now();
    expect(await provisionCloudNodes(db, config(), work)).toEqual([]);
    const shown = await getCloudSettings(db, owner.id, "instance");
    expect(shown).toMatchObject({ failures: 1, vms: 0 });
    expect(shown?.lastError).toMatch(/quota is used up.*server limit reached/);
    expect(shown?.backoffUntil?.getTime()).toBeGreaterThanOrEqual(before + 30_000);
    const failed = await db.query.nodes.findFirst({ where: eq(nodes.cloudSettingsId, settings.id) });
    expect(failed).toMatchObject({ status: "destroyed", providerRef: null });
    expect(failed?.statusReason).toMatch(/quota/);

    const posts = () => fixture.requests.filter((r) => r.method === "POST").length;
    const postsBefore = posts();
    expect(await provisionCloudNodes(db, config(), work)).toEqual([]);
    expect(posts()).toBe(postsBefore);

    // The second failure in a row waits twice as long.
    await db.update(cloudSettings).set({ backoffUntil: null }).where(eq(cloudSettings.id, settings.id));
    fixture.failNext("POST /servers", { status: 429, code: "rate_limit_exceeded", message: "slow down" });
    const second = Date.now();
    await provisionCloudNodes(db, config(), work);
    const again = await getCloudSettings(db, owner.id, "instance");
    expect(again?.failures).toBe(2);
    expect(again?.backoffUntil?.getTime()).toBeGreaterThanOrEqual(second + 60_000);

    // Saving the settings again is a fresh start; a success clears the count.
    await instanceSettings();
    expect(await provisionCloudNodes(db, config(), work)).toHaveLength(1);
    expect((await getCloudSettings(db, owner.id, "instance"))?.failures).toBe(0);
  });

  it("settings that cannot work (VMs could not reach the web app) fail before any node or VM is made, and say why", async () => {
    const settings = await instanceSettings();
    const { tasks: work } = await queued(1);
    const loopback = loadConfig({ SAM_DATA_DIR: dir, SAM_LOCAL_NODES: "0", SAM_PUBLIC_URL: "http://127.0.0.1:3000" });
    expect(await provisionCloudNodes(db, loopback, work)).toEqual([]);
    expect((await getCloudSettings(db, owner.id, "instance"))?.lastError).toMatch(/set SAM_PUBLIC_URL/);
    expect(await db.query.nodes.findFirst({ where: eq(nodes.cloudSettingsId, settings.id) })).toBeUndefined();
    expect(fixture.servers.size).toBe(0);
  });

  it("a VM whose node is gone (retired after its warm period, lost, removed) is deleted; the node keeps its history", async () => {
    await instanceSettings();
    const { tasks: work } = await queued(1);
    const [nodeId] = await provisionCloudNodes(db, config(), work);
    const serverId = Number((await vmNodes())[0]?.providerRef);
    await db
      .update(nodes)
      .set({ status: "destroyed" })
      .where(eq(nodes.id, nodeId ?? ""));
    await cloudUpkeep(db, config());
    expect(fixture.requests.some((r) => r.method === "DELETE" && r.path === `/servers/${serverId}`)).toBe(true);
    expect(fixture.servers.has(serverId)).toBe(false);
    const node = await db.query.nodes.findFirst({ where: eq(nodes.id, nodeId ?? "") });
    expect(node).toMatchObject({ status: "destroyed", providerRef: null });
    expect(node?.destroyedAt).toBeInstanceOf(Date);
  });

  it("a VM that does not join within 30 minutes is lost, counted as a failure and deleted", async () => {
    await instanceSettings();
    const { tasks: work } = await queued(1);
    const [nodeId] = await provisionCloudNodes(db, config(), work);
    const serverId = Number((await vmNodes())[0]?.providerRef);
    await db
      .update(nodes)
      .set({ createdAt: new Date(Date.now() - 31 * 60_000) })
      .where(eq(nodes.id, nodeId ?? ""));
    await cloudUpkeep(db, config());
    const lost = await db.query.nodes.findFirst({ where: eq(nodes.id, nodeId ?? "") });
    expect(lost?.status).toBe("lost");
    expect((await getCloudSettings(db, owner.id, "instance"))?.lastError).toMatch(/did not join within 30 minutes/);
    expect(fixture.servers.has(serverId)).toBe(false);
    expect((await db.query.nodes.findFirst({ where: eq(nodes.id, nodeId ?? "") }))?.providerRef).toBeNull();
  });

  it("a creation cut short leaves no node behind: its row goes, and a VM the API made for it is deleted by its labels", async () => {
    const settings = await instanceSettings();
    const long = new Date(Date.now() - 10 * 60_000);
    const [row] = await db
      .insert(nodes)
      .values({
        id: `cut-${randomBytes(4).toString("hex")}`,
        name: "sam-cut",
        provider: "hetzner",
        status: "provisioning",
        cloudSettingsId: settings.id,
        createdAt: long,
      })
      .returning();
    // The server the API made before the web app stopped.
    const api = new HetznerApi(fixture.token, fixture.url);
    await api.createServer({
      name: "sam-cut",
      serverType: "cx22",
      image: "debian-12",
      location: "fsn1",
      userData: "",
      labels: { "sam-managed": "true", "sam-settings": settings.id, "sam-node": row?.id ?? "" },
    });
    await cloudUpkeep(db, config());
    expect(await db.query.nodes.findFirst({ where: eq(nodes.id, row?.id ?? "") })).toMatchObject({
      status: "destroyed",
    });
    expect(fixture.servers.size).toBe(0);
  });

  it("keeps a warm pool of idle VMs, and disabling the settings lets their VMs go", async () => {
    await instanceSettings({ warmPool: 2 });
    await cloudUpkeep(db, config());
    await cloudUpkeep(db, config());
    const pool = (await vmNodes()).map((n) => n.id);
    expect(pool).toHaveLength(2);
    // Joined and idle, past their warm period: the pool keeps them.
    const past = new Date(Date.now() - 1000);
    await db.update(nodes).set({ status: "warm", warmUntil: past }).where(inArray(nodes.id, pool));
    await cloudUpkeep(db, config());
    const kept = await db.select().from(nodes).where(inArray(nodes.id, pool));
    for (const node of kept) expect(node.warmUntil?.getTime()).toBeGreaterThan(Date.now());
    expect(fixture.servers.size).toBe(2);

    // Disabled: warm VMs expire at once.
    await instanceSettings({ enabled: false, warmPool: 0 });
    await cloudUpkeep(db, config());
    const expired = await db.select().from(nodes).where(inArray(nodes.id, pool));
    for (const node of expired) expect(node.warmUntil?.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe("cloud settings", () => {
  it("never show the token, for the instance or a project", async () => {
    const view = await instanceSettings();
    expect(JSON.stringify(view)).not.toContain(fixture.token);
    expect(view).toMatchObject({ tokenSet: true, tokenSecret: null, scope: "instance" });
    const row = await db.query.cloudSettings.findFirst({ where: eq(cloudSettings.id, view.id) });
    expect(row?.tokenCiphertext).not.toContain(fixture.token);
  });

  it("a project names its secret holding the token, which must exist; only owners change them, members read them", async () => {
    const project = await createProject(db, owner.id, { repo });
    const set = (userId: string, input: Record<string, unknown>) =>
      setCloudSettings(db, instanceSecretKey(), userId, { projectId: project.id }, input);
    await expect(set(owner.id, { serverType: "cx22", location: "fsn1" })).rejects.toThrow(
      /no secret named HCLOUD_TOKEN/,
    );
    await expect(set(owner.id, { token: fixture.token, serverType: "cx22", location: "fsn1" })).rejects.toThrow(
      /one of its secrets/,
    );
    await setSecret(db, instanceSecretKey(), owner.id, project.id, {
      name: "HCLOUD_TOKEN",
      kind: "other",
      value: fixture.token,
    });
    const view = await set(owner.id, { serverType: "cx22", location: "fsn1", warmMinutes: 5 });
    expect(view).toMatchObject({ scope: "project", tokenSecret: "HCLOUD_TOKEN", warmMinutes: 5, maxVms: 3 });
    // What is not given keeps its stored value.
    expect(await set(owner.id, { maxVms: 1 })).toMatchObject({ warmMinutes: 5, maxVms: 1, serverType: "cx22" });

    const member = await createLocalUser(db, { email: `m-${randomBytes(3).toString("hex")}@example.com` });
    await addMember(db, owner.id, project.id, { email: member.email, role: "member" });
    await expect(set(member.id, { maxVms: 2 })).rejects.toThrow(/Only a project owner/);
    expect(await getCloudSettings(db, member.id, { projectId: project.id })).toMatchObject({ maxVms: 1 });
    await expect(
      setCloudSettings(db, instanceSecretKey(), member.id, "instance", {
        token: fixture.token,
        serverType: "cx22",
        location: "fsn1",
      }),
    ).rejects.toThrow(/instance admin/);
  });

  it("refuse what is wrong, naming each field", async () => {
    await expect(
      instanceSettings({ serverType: "CX 22", capacity: 0, warmPool: 9, maxVms: 2, colour: "red" }),
    ).rejects.toThrow(/serverType: .*capacity: .*colour: is not a known field/s);
    await expect(instanceSettings({ warmPool: 4, maxVms: 2 })).rejects.toThrow(
      /warmPool: the warm pool cannot be larger/,
    );
  });

  it("are not cleared while their VMs exist", async () => {
    await instanceSettings();
    const { tasks: work } = await queued(1);
    await provisionCloudNodes(db, config(), work);
    await expect(clearCloudSettings(db, owner.id, "instance")).rejects.toThrow(/still exist/);
    await db.update(nodes).set({ status: "destroyed" }).where(eq(nodes.provider, "hetzner"));
    await cloudUpkeep(db, config());
    await clearCloudSettings(db, owner.id, "instance");
    expect(await getCloudSettings(db, owner.id, "instance")).toBeUndefined();
  });
});
