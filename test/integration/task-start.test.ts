import { randomBytes } from "node:crypto";
import path from "node:path";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { chatSessions, nodes, taskEvents, tasks, tokens, workspaces } from "@/db/schema";
import { daemonClient } from "@/lib/nodes/daemon-client";
import { mintNodeToken } from "@/lib/nodes/node-tokens";
import { resendPendingStops, stopSubtask } from "@/lib/orchestrator/stop";
import { createProject } from "@/lib/projects/projects";
import { releaseEndedWorkspaces } from "@/lib/scheduler/release-workspaces";
import { startClaimedTask } from "@/lib/scheduler/start-task";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner, type User } from "@/lib/users";
import { type DaemonProcess, spawnDaemon } from "../../agent-daemon/test/daemon-process";
import { until } from "../../agent-daemon/test/fake-web";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

// The node token is stored encrypted with the instance key; this test's instance has its own.
process.env.SAM_SECRET_KEY = randomBytes(32).toString("hex");

describe("a task's start: workspace, then token and running in one write, then session (real daemon, real libSQL)", () => {
  let db: Db;
  let owner: User;
  let projectId: string;
  let daemon: DaemonProcess;
  let nodeId: string;
  let target: { url: string; token: string };
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const testDb = await makeTestDb();
    const dir = makeTempDir("sam-task-start-");
    cleanups.push(testDb.cleanup, dir.cleanup);
    db = testDb.db;
    owner = await ensureInstanceOwner(db);
    projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "repo")) })).id;
    nodeId = "node-task-start";
    await db.insert(nodes).values({ id: nodeId, name: "test node", provider: "local", status: "ready", capacity: 4 });
    const { token, ciphertext } = await mintNodeToken(db, nodeId);
    daemon = spawnDaemon({
      SAM_NODE_ID: nodeId,
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_DATA_DIR: path.join(dir.dir, "node"),
    });
    target = { url: await daemon.url, token };
    await db.update(nodes).set({ url: target.url, tokenCiphertext: ciphertext }).where(eq(nodes.id, nodeId));
  });
  afterEach(() => {
    // A test that failed with the daemon paused must not leave it paused.
    daemon.child.kill("SIGCONT");
  });
  afterAll(async () => {
    await daemon?.stop();
    for (const cleanup of cleanups.reverse()) cleanup();
  });

  /** A queued task claimed for the node, as the scheduler's claim leaves it. */
  async function claimedTask(prompt = "Do nothing much.") {
    const task = await createTask(db, owner.id, { projectId, prompt, mode: "task" });
    const claimed = await transitionTask(db, {
      taskId: task.id,
      from: ["queued"],
      to: "provisioning",
      actor: { kind: "system" },
      set: { nodeId },
    });
    expect(claimed).toBe(true);
    return task.id;
  }

  /**
   * Starts the task with the node's daemon paused, so the workspace is still being made when `meanwhile`
   * runs; then lets the daemon go on and waits for the start to finish.
   */
  async function startWhile(taskId: string, meanwhile: () => Promise<void>): Promise<void> {
    daemon.child.kill("SIGSTOP");
    const starting = startClaimedTask(db, taskId, "http://127.0.0.1:9");
    await until(async () => (await workspaceRows(taskId)).some((w) => w.status === "creating"));
    await meanwhile();
    daemon.child.kill("SIGCONT");
    await starting;
  }

  const workspaceRows = (taskId: string) => db.select().from(workspaces).where(eq(workspaces.taskId, taskId));
  const taskTokens = (taskId: string) =>
    db
      .select()
      .from(tokens)
      .where(and(eq(tokens.taskId, taskId), eq(tokens.kind, "task")));
  const statusOf = async (taskId: string) =>
    (await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { status: true } }))?.status;
  const workspacesOnNode = async () =>
    ((await daemon.call("GET", "/health")).body as { workspaces: number }).workspaces;

  it("a task cancelled while its workspace is being made never gets a token, and its workspace is released", async () => {
    const taskId = await claimedTask();
    await startWhile(taskId, async () => {
      expect(
        await transitionTask(db, { taskId, from: ["provisioning"], to: "cancelled", actor: { kind: "user" } }),
      ).toBe(true);
    });
    expect(await statusOf(taskId)).toBe("cancelled");
    expect(await taskTokens(taskId)).toEqual([]);
    expect((await workspaceRows(taskId)).map((w) => w.status)).toEqual(["removed"]);
    expect(await workspacesOnNode()).toBe(0);
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    expect((await daemon.call("GET", `/sessions/${session!.id}`)).status).toBe(404);
    // It never ran.
    const moves = await db.select().from(taskEvents).where(eq(taskEvents.taskId, taskId));
    expect(moves.map((m) => m.toStatus)).toEqual(["queued", "provisioning", "cancelled"]);
  });

  it("a task stopped by its user while its workspace is being made fails with the reason, gets no token, and its workspace is released", async () => {
    const taskId = await claimedTask();
    await startWhile(taskId, async () => {
      await stopSubtask(db, { kind: "user", userId: owner.id, projectId }, { taskId, reason: "changed my mind" });
    });
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
    expect(task).toMatchObject({ status: "failed", failureReason: "stopped by user: changed my mind" });
    expect(await taskTokens(taskId)).toEqual([]);
    expect((await workspaceRows(taskId)).map((w) => w.status)).toEqual(["removed"]);
    expect(await workspacesOnNode()).toBe(0);
  });

  it("a task whose stop was recorded but not yet carried out never starts; the stop then ends it", async () => {
    const taskId = await claimedTask();
    await startWhile(taskId, async () => {
      // As a stop recorded just before the web app restarted leaves it.
      await db.run(sql`UPDATE tasks SET stop_requested_at = 1, stop_reason = 'stopped by user: later',
        stop_grace_seconds = 1 WHERE id = ${taskId}`);
    });
    expect(await statusOf(taskId)).toBe("provisioning");
    expect(await taskTokens(taskId)).toEqual([]);
    await resendPendingStops(db);
    expect(await statusOf(taskId)).toBe("failed");
    await releaseEndedWorkspaces(db, taskId);
    expect((await workspaceRows(taskId)).map((w) => w.status)).toEqual(["removed"]);
    expect(await workspacesOnNode()).toBe(0);
  });

  it("a task that starts gets exactly one token, with its move to running, and its session runs", async () => {
    const taskId = await claimedTask('Work.\n```sam-script\n[{"say":"hello"},{"sleep":60000}]\n```');
    await startClaimedTask(db, taskId, "http://127.0.0.1:9");
    expect(await statusOf(taskId)).toBe("running");
    const minted = await taskTokens(taskId);
    expect(minted).toHaveLength(1);
    const running = await db
      .select()
      .from(taskEvents)
      .where(and(eq(taskEvents.taskId, taskId), eq(taskEvents.toStatus, "running")));
    expect(running).toHaveLength(1);
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    expect((await daemon.call("GET", `/sessions/${session!.id}`)).status).toBe(200);

    // Ending it revokes the token; its workspace goes once its session is over.
    await transitionTask(db, { taskId, from: ["running"], to: "failed", actor: { kind: "user" } });
    expect((await taskTokens(taskId))[0]?.revokedAt).not.toBeNull();
    await daemon.call("POST", `/sessions/${session!.id}/stop`, { graceMs: 0, reason: "test over" });
    await until(async () => {
      await releaseEndedWorkspaces(db, taskId);
      return (await workspaceRows(taskId)).every((w) => w.status === "removed");
    });
    expect(await workspacesOnNode()).toBe(0);
  });

  it("a workspace the web app gave up waiting for is released once the node has made it", async () => {
    const taskId = await claimedTask();
    const workspaceId = "ws-given-up";
    await db
      .insert(workspaces)
      .values({ id: workspaceId, nodeId, taskId, path: "", branch: "sam/given-up-1", status: "creating" });
    const repo = (await db.query.projects.findFirst())!.repo;
    daemon.child.kill("SIGSTOP");
    // The clone the web app asked for, still on its way to (or in) the node when it gives up.
    const creating = daemonClient
      .createWorkspace(target, { workspaceId, taskId, repo, baseBranch: "main", branch: "sam/given-up-1" })
      .catch(() => undefined);
    // It gave up: the task failed, as a timed-out start fails it.
    await transitionTask(db, { taskId, from: ["provisioning"], to: "failed", actor: { kind: "system" } });
    daemon.child.kill("SIGCONT");
    // Scheduler passes, until the node let the workspace go.
    await until(async () => {
      await releaseEndedWorkspaces(db);
      return (await workspaceRows(taskId)).every((w) => w.status === "removed");
    });
    await creating;
    expect(await workspacesOnNode()).toBe(0);
  });
});
