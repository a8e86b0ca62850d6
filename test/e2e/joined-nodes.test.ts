import fs from "node:fs";
import path from "node:path";
import { asc, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, nodes } from "@/db/schema";
import { until } from "../../agent-daemon/test/fake-web";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { freePort } from "../helpers/free-port";
import { makeGitRepo } from "../helpers/git";
import { type JoinedNode, mintJoinToken, nodeRow, startJoinedNode } from "../helpers/joined-node";
import { createNetns, type Netns, netnsUnavailableReason } from "../helpers/netns";
import { makeTempDir } from "../helpers/temp-dir";

const unavailable = netnsUnavailableReason();
const SAM_BIN = path.resolve(import.meta.dirname, "../../bin/sam.mjs");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// The daemon's own settings pass through to the joined node as they would on another machine.
const nodeEnv = (): Record<string, string> => ({
  SAM_HEARTBEAT_MS: "300",
  ...(process.env.SAM_SANDBOX ? { SAM_SANDBOX: process.env.SAM_SANDBOX } : {}),
});

interface Setup {
  ns: Netns;
  app: AppServer;
  api: ApiClient;
  projectId: string;
  /** The web app as the namespace reaches it (and as this test does: it listens only there). */
  webUrl: string;
  port: number;
  dataDir: string;
}

/** A web app with no local node listening on the namespace's link only, and a project. */
async function webAppForNamespace(env: Record<string, string> = {}): Promise<Setup> {
  const ns = createNetns();
  cleanups.push(() => ns.destroy());
  const repos = makeTempDir("sam-joined-repos-");
  cleanups.push(repos.cleanup);
  const data = makeTempDir("sam-joined-app-");
  cleanups.push(data.cleanup);
  const port = await freePort();
  const app = await startAppServer({
    env: { HOST: ns.hostIp, SAM_LOCAL_NODES: "0", SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "300", ...env },
    port,
    dataDir: data.dir,
  });
  cleanups.push(() => app.stop({ keepData: true }));
  const api = await ownerApi(app);
  const project = await api.post<{ id: string }>("/api/projects", {
    repo: makeGitRepo(path.join(repos.dir, "project")),
  });
  expect(project.status).toBe(201);
  return {
    ns,
    app,
    api,
    projectId: project.body.id,
    webUrl: `http://${ns.hostIp}:${port}`,
    port,
    dataDir: data.dir,
  };
}

async function joinNode(setup: Setup, opts: { capacity?: number } = {}): Promise<JoinedNode> {
  const { token, joinCommand } = await mintJoinToken(setup.app, setup.webUrl);
  expect(joinCommand).toBe(`npx sam daemon --join ${setup.webUrl} --token ${token}`);
  const node = await startJoinedNode({ ns: setup.ns, webUrl: setup.webUrl, token, env: nodeEnv(), ...opts });
  cleanups.push(() => node.stop());
  await until(async () => (await nodeRow(setup.app, node.nodeId))?.channelOpen === true, 30_000);
  return node;
}

async function sessionEvents(app: AppServer, taskId: string) {
  const db = openAppDb(app);
  try {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    if (!session) return [];
    return await db.query.agentEvents.findMany({
      where: eq(agentEvents.sessionId, session.id),
      orderBy: asc(agentEvents.seq),
    });
  } finally {
    db.$client.close();
  }
}

const textsOf = (events: { type: string; payload: string }[]) =>
  events.filter((e) => e.type === "agent_text").map((e) => JSON.parse(e.payload).text as string);

async function waitForText(app: AppServer, taskId: string, text: string, timeoutMs = 60_000) {
  await until(async () => textsOf(await sessionEvents(app, taskId)).some((t) => t.includes(text)), timeoutMs);
}

describe.skipIf(unavailable)("a machine joined with `sam daemon --join` runs tasks; the web app never calls it", () => {
  it("a joined daemon in its own network namespace runs a task to completion, its agent reaching MCP where the node reaches the web app", async () => {
    const setup = await webAppForNamespace();
    const node = await joinNode(setup);
    const row = await nodeRow(setup.app, node.nodeId);
    expect(row).toMatchObject({ provider: "joined", webUrl: setup.webUrl, version: "0.1.0" });
    expect(["ready", "warm"]).toContain(row?.status);

    const created = await setup.api.post<{ id: string }>("/api/tasks", {
      projectId: setup.projectId,
      prompt: scriptPrompt("Write a file on the joined node.", [
        { tool: "write_file", args: { path: "joined.txt", content: "made on a joined node\n" } },
        { tool: "get_instructions", args: {} },
        { say: "done on the joined node" },
      ]),
    });
    expect(created.status).toBe(201);
    const done = await waitForTask(setup.api, created.body.id, isTerminal, 90_000);
    expect(done).toMatchObject({ status: "completed", nodeId: node.nodeId });
    const events = await sessionEvents(setup.app, created.body.id);
    // The MCP tool answered: the agent reached the web app from inside the namespace.
    const toolResult = events.find((e) => e.type === "tool_result" && e.payload.includes("get_instructions"));
    expect(JSON.parse(toolResult!.payload).status).toBe("completed");
    expect(textsOf(events).join("")).toContain("done on the joined node");
    expect(events.at(-1)?.type).toBe("session_finished");
  });

  it("a user's message reaches an agent on a joined node, and a stop ends its task with the reason", async () => {
    const setup = await webAppForNamespace();
    await joinNode(setup);

    const talk = await setup.api.post<{ id: string }>("/api/tasks", {
      projectId: setup.projectId,
      mode: "conversation",
      prompt: scriptPrompt("Let us talk.", [{ say: "ready when you are" }]),
    });
    await waitForTask(setup.api, talk.body.id, (t) => t.status === "awaiting_followup", 90_000);
    const sent = await setup.api.post(`/api/tasks/${talk.body.id}/messages`, {
      text: scriptPrompt("One more thing.", [{ say: "heard you on the joined node" }]),
    });
    expect(sent.status).toBeLessThan(300);
    await waitForText(setup.app, talk.body.id, "heard you on the joined node");

    const work = await setup.api.post<{ id: string }>("/api/tasks", {
      projectId: setup.projectId,
      prompt: scriptPrompt("Work for a long time.", [{ say: "working" }, { sleep: 60_000 }]),
    });
    await waitForText(setup.app, work.body.id, "working");
    const stop = await setup.api.post(`/api/tasks/${work.body.id}/stop`, { reason: "enough", graceSeconds: 0 });
    expect(stop.status).toBeLessThan(300);
    const stopped = await waitForTask(setup.api, work.body.id, isTerminal, 30_000);
    expect(stopped.status).toBe("failed");
    expect(stopped.failureReason).toContain("enough");
  });

  it("restarting the web app mid-task loses no event and doubles none; the joined node reconnects and the task completes", async () => {
    const setup = await webAppForNamespace();
    const node = await joinNode(setup);
    const created = await setup.api.post<{ id: string }>("/api/tasks", {
      projectId: setup.projectId,
      prompt: scriptPrompt("Outlive a restart.", [
        { say: "before the restart" },
        { sleep: 3000 },
        { tool: "write_file", args: { path: "during.txt", content: "written while the web app was down\n" } },
        { sleep: 1500 },
        { say: "after the restart" },
      ]),
    });
    const taskId = created.body.id;
    await waitForText(setup.app, taskId, "before the restart");
    await setup.app.stop({ keepData: true });

    // The agent keeps working while no web app listens; its events wait in the node's outbox.
    await until(() => /command channel failed/.test(node.output()), 10_000);
    const second = await startAppServer({
      env: { HOST: setup.ns.hostIp, SAM_LOCAL_NODES: "0", SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "300" },
      port: setup.port,
      dataDir: setup.dataDir,
    });
    cleanups.push(() => second.stop({ keepData: true }));
    const api = await ownerApi(second);
    const done = await waitForTask(api, taskId, isTerminal, 90_000);
    expect(done).toMatchObject({ status: "completed", nodeId: node.nodeId });

    const events = await sessionEvents(second, taskId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const texts = textsOf(events).join("");
    expect(texts).toContain("before the restart");
    expect(texts).toContain("after the restart");
    expect(events.at(-1)?.type).toBe("session_finished");
    expect((await nodeRow(second, node.nodeId))?.status).not.toBe("lost");
  });

  it("serverless: with no local node, no in-process scheduler and a cron hitting /api/cron/tick, a task runs on a joined node", async () => {
    const secret = "cron-secret-for-the-joined-node-test";
    const setup = await webAppForNamespace({ SAM_SCHEDULER: "off", CRON_SECRET: secret });
    const node = await joinNode(setup);
    const created = await setup.api.post<{ id: string }>("/api/tasks", {
      projectId: setup.projectId,
      prompt: scriptPrompt("Run without a long-lived scheduler.", [
        { tool: "write_file", args: { path: "cron.txt", content: "ticked\n" } },
        { say: "ran by cron" },
      ]),
    });
    let ticking = true;
    const ticks: number[] = [];
    const cron = (async () => {
      while (ticking) {
        const res = await fetch(`${setup.webUrl}/api/cron/tick`, {
          method: "POST",
          headers: { authorization: `Bearer ${secret}` },
        });
        ticks.push(res.status);
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      const done = await waitForTask(setup.api, created.body.id, isTerminal, 90_000);
      expect(done).toMatchObject({ status: "completed", nodeId: node.nodeId });
    } finally {
      ticking = false;
      await cron;
    }
    expect(ticks.every((s) => s === 200)).toBe(true);
    // No local daemon was started: the only node is the joined one.
    const db = openAppDb(setup.app);
    try {
      expect((await db.select().from(nodes)).map((n) => n.provider)).toEqual(["joined"]);
    } finally {
      db.$client.close();
    }
  });
});

describe.skipIf(unavailable)("joining: a join token works once and not after it expires; bad input is named", () => {
  it("a used or an expired join token is refused with 401 and a message that says which; the node's file is 0600 and a restart reuses it", async () => {
    const setup = await webAppForNamespace();
    const { token } = await mintJoinToken(setup.app, setup.webUrl, { labels: ["gpu"] });
    const node = await startJoinedNode({
      ns: setup.ns,
      webUrl: setup.webUrl,
      token,
      labels: ["eu"],
      name: "build box",
      env: nodeEnv(),
    });
    cleanups.push(() => node.stop());
    const file = path.join(node.dir, "node.json");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { credential: string };
    // The credential is the node's alone: never printed, stored only as a hash.
    expect(node.output()).not.toContain(saved.credential);
    const row = await nodeRow(setup.app, node.nodeId);
    expect(row).toMatchObject({ name: "build box", labels: JSON.stringify(["eu", "gpu"]) });

    const again = await fetch(`${setup.webUrl}/api/daemon/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, capacity: 2, version: "0.1.0" }),
    });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/already used/);

    const expiring = await mintJoinToken(setup.app, setup.webUrl, { ttlMinutes: 1 });
    const db = openAppDb(setup.app);
    try {
      await db.run(sql`UPDATE node_join_tokens SET expires_at = ${Date.now() - 1000} WHERE used_at IS NULL`);
    } finally {
      db.$client.close();
    }
    const refused = await runJoin(setup, expiring.token);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/refused to join this node: The join token has expired/);
    expect(fs.existsSync(path.join(refused.dir, "node.json"))).toBe(false);

    // A restart with the same directory needs no token: it is the same node.
    await node.stop({ removeDir: false });
    const restarted = await startJoinedNode({ ns: setup.ns, webUrl: setup.webUrl, dir: node.dir, env: nodeEnv() });
    cleanups.push(() => restarted.stop({ removeDir: true }));
    expect(restarted.nodeId).toBe(node.nodeId);
    await until(async () => (await nodeRow(setup.app, node.nodeId))?.channelOpen === true, 30_000);
  });

  it("a join with bad input is refused naming each field; `sam daemon --join` names each bad flag", async () => {
    const setup = await webAppForNamespace();
    const res = await fetch(`${setup.webUrl}/api/daemon/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "short", capacity: 0, version: "0.1.0", labels: ["Not A Label"], extra: 1 }),
    });
    expect(res.status).toBe(400);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    for (const field of ["token", "capacity", "labels.0", "extra"]) expect(message).toContain(`${field}:`);

    const flags = await runJoin(setup, "x".repeat(30), [
      "--capacity",
      "0",
      "--labels",
      "Bad Label",
      "--join",
      "ftp://x",
    ]);
    expect(flags.code).toBe(2);
    expect(flags.output).toMatch(/--capacity: must be a whole number from 1 to 64/);
    expect(flags.output).toMatch(/--labels: a label is/);
    expect(flags.output).toMatch(/--join: must be the web app's http\(s\) URL/);
  });
});

/** `sam daemon --join` run to its end (a join that is refused exits), in the namespace. */
async function runJoin(setup: Setup, token: string, extra: string[] = []) {
  const dir = makeTempDir("sam-join-refused-");
  cleanups.push(dir.cleanup);
  const child = setup.ns.spawn(
    process.execPath,
    [SAM_BIN, "daemon", "--join", setup.webUrl, "--token", token, "--dir", path.join(dir.dir, "node"), ...extra],
    {
      env: { NODE_ENV: "production", PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, output, dir: path.join(dir.dir, "node") };
}
