import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, nodes, tokens } from "@/db/schema";
import { hashToken } from "@/lib/auth/tokens";
import { isTerminal, openAppDb, ownerApi, scriptPrompt, type TaskView, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { runSam } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function appWithProject(env: Record<string, string>) {
  const repos = makeTempDir("sam-lost-repos-");
  cleanups.push(repos.cleanup);
  const app = await startAppServer({ env });
  cleanups.push(() => app.stop());
  const api = await ownerApi(app);
  const repo = makeGitRepo(path.join(repos.dir, "project"));
  const project = await api.post<{ id: string }>("/api/projects", { repo });
  expect(project.status).toBe(201);
  return { app, api, repo, projectId: project.body.id, scratch: repos.dir };
}

async function agentSpoke(app: AppServer, taskId: string): Promise<boolean> {
  const db = openAppDb(app);
  try {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    if (!session) return false;
    const events = await db.query.agentEvents.findMany({
      where: eq(agentEvents.sessionId, session.id),
      orderBy: asc(agentEvents.seq),
    });
    return events.some((e) => e.type === "agent_text");
  } finally {
    db.$client.close();
  }
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@e",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@e",
    },
  });

describe("a node lost under its task", () => {
  it("kill -9 of a local node's daemon fails its task with `node lost`; the task is re-queued once and completes on another node, starting from the work the lost attempt had pushed", async () => {
    const { app, api, repo, projectId, scratch } = await appWithProject({
      SAM_TICK_MS: "200",
      SAM_HEARTBEAT_MS: "300",
      SAM_NODE_TIMEOUT_MS: "3000",
    });
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt("Work, then write done.txt.", [
        { say: "working" },
        { sleep: 6000 },
        { tool: "write_file", args: { path: "done.txt", content: "done\n" } },
      ]),
    });
    const taskId = created.body.id;
    const running = await waitForTask(api, taskId, (t) => t.status === "running");
    const deadline = Date.now() + 30_000;
    while (!(await agentSpoke(app, taskId))) {
      if (Date.now() > deadline) throw new Error("the agent never spoke");
      await new Promise((r) => setTimeout(r, 50));
    }

    // What the lost attempt had pushed to its branch before its node died.
    const clone = path.join(scratch, "pusher");
    git(scratch, "clone", "-q", repo, clone);
    fs.writeFileSync(path.join(clone, "lost-work.txt"), "pushed before the node died\n");
    git(clone, "add", "lost-work.txt");
    git(clone, "commit", "-q", "-m", "work in progress");
    git(clone, "push", "-q", "origin", `HEAD:refs/heads/${running.branch}`);

    const db = openAppDb(app);
    const node = await db.query.nodes.findFirst({ where: eq(nodes.id, running.nodeId!) });
    db.$client.close();
    const { pid } = JSON.parse(node!.providerRef!) as { pid: number };
    process.kill(pid, "SIGKILL");

    const failed = await waitForTask(api, taskId, isTerminal, 15_000);
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toMatch(/^node lost/);
    const withRetry = await waitForTask(
      api,
      taskId,
      (t) => (t as TaskView & { retriedAsId: string | null }).retriedAsId !== null,
      10_000,
    );
    const retryId = (withRetry as TaskView & { retriedAsId: string }).retriedAsId;
    const retry = await waitForTask(api, retryId, isTerminal, 60_000);
    expect(retry.status).toBe("completed");
    expect(retry.nodeId).not.toBe(running.nodeId);
    const shown = JSON.parse((await runSam(["task", "show", retryId, "--json"], { SAM_DATA_DIR: app.dataDir })).stdout);
    expect(shown).toMatchObject({ retryOfId: taskId, retryCount: 1, nodeId: retry.nodeId });
    // Its branch holds the lost attempt's pushed work and its own.
    expect(git(repo, "show", `${retry.branch}:lost-work.txt`)).toBe("pushed before the node died\n");
    expect(git(repo, "show", `${retry.branch}:done.txt`)).toBe("done\n");
    // Exactly one new attempt.
    const check = openAppDb(app);
    const attempts = await check.query.tasks.findMany({ where: (t, { eq }) => eq(t.retryOfId, taskId) });
    check.$client.close();
    expect(attempts).toHaveLength(1);
  });
});

describe("a removed node's credential", () => {
  async function request(app: AppServer, route: string, token: string, body: unknown) {
    const controller = new AbortController();
    const res = await fetch(`${app.baseUrl}${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    // A channel that opened is a stream held open: only its status matters here.
    controller.abort();
    return res.status;
  }

  it("is refused from the moment of removal: heartbeat, events, channel and command results get 401", async () => {
    const { app, api } = await appWithProject({ SAM_LOCAL_NODES: "0" });
    const nodeId = `joined-${randomBytes(6).toString("hex")}`;
    const token = randomBytes(32).toString("base64url");
    const db = openAppDb(app);
    await db.insert(nodes).values({ id: nodeId, name: "joined one", provider: "joined", status: "ready", capacity: 2 });
    await db.insert(tokens).values({ id: `tok-${nodeId}`, kind: "node", tokenHash: hashToken(token), nodeId });
    db.$client.close();

    const beat = { nodeId, url: "http://10.0.0.2:1", capacity: 2, workspaces: 0, sessions: [] };
    const hello = { nodeId, version: "0.0.0-test", capacity: 2 };
    const event = {
      nodeId,
      events: [{ sessionId: "s", taskId: "t", seq: 1, at: Date.now(), event: { type: "agent_text", text: "x" } }],
    };
    const routes = {
      heartbeat: ["/api/daemon/heartbeat", beat],
      channel: ["/api/daemon/channel", hello],
      events: ["/api/daemon/events", event],
      result: ["/api/daemon/commands/no-such-command/result", { status: 200, body: {} }],
    } as const;
    // Before: the credential works (whatever each route then makes of the body).
    expect(await request(app, routes.heartbeat[0], token, routes.heartbeat[1])).toBe(200);
    expect(await request(app, routes.channel[0], token, routes.channel[1])).toBe(200);
    expect(await request(app, routes.events[0], token, routes.events[1])).not.toBe(401);
    expect(await request(app, routes.result[0], token, routes.result[1])).not.toBe(401);

    const removed = await api.post<{ status: string }>(`/api/nodes/${nodeId}/remove`, {});
    expect(removed.status).toBe(200);
    expect(removed.body.status).toBe("destroyed");

    for (const [route, body] of Object.values(routes)) {
      expect(await request(app, route, token, body), route).toBe(401);
    }
    // Not listed any more, and a second removal says it was already done.
    const listed = await api.get<{ nodes: { id: string }[] }>("/api/nodes");
    expect(listed.body.nodes.map((n) => n.id)).not.toContain(nodeId);
    const again = await api.post<{ error: { message: string } }>(`/api/nodes/${nodeId}/remove`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already removed/);
    const unknown = await api.post<{ error: { code: string } }>("/api/nodes/ffffffff-none/drain", {});
    expect(unknown.status).toBe(404);
  });
});
