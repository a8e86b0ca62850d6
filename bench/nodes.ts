/**
 * Joined nodes against a local one, on the real app with the offline scripted model:
 * - message: `send_message_to_subtask` from a parent to its child conversation, until the call
 *   returns (the child's daemon took the message into its session) and until the child's
 *   `user_message` event is stored at the web app;
 * - start: a task's creation to its first agent event stored at the web app.
 * The joined node runs in its own network namespace and reaches the web app over a veth link (it
 * knows only that address); the local node is the daemon the web app starts on its machine.
 * `npm run bench:nodes` (root, iproute2). BENCH_RUNS sets the number of samples (default 20).
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, tasks } from "@/db/schema";
import { ensureBuilt } from "../scripts/build-state";
import { type ApiClient, openAppDb, ownerApi } from "../test/helpers/api";
import { type AppServer, startAppServer } from "../test/helpers/app-server";
import { runSam } from "../test/helpers/cli";
import { freePort } from "../test/helpers/free-port";
import { makeGitRepo } from "../test/helpers/git";
import { type JoinedNode, mintJoinToken, startJoinedNode } from "../test/helpers/joined-node";
import { callToolOk } from "../test/helpers/mcp";
import { createNetns, type Netns, netnsUnavailableReason } from "../test/helpers/netns";
import { makeTempDir } from "../test/helpers/temp-dir";
import { describe, fmt } from "./stats";

function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`bench:nodes: timed out waiting for ${what}`);
}

async function events(db: Db, taskId: string, type?: string) {
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
  if (!session) return [];
  return db
    .select({ type: agentEvents.type, payload: agentEvents.payload, at: agentEvents.createdAt })
    .from(agentEvents)
    .where(and(eq(agentEvents.sessionId, session.id), type ? eq(agentEvents.type, type) : undefined))
    .orderBy(asc(agentEvents.seq));
}

const taskStatus = (db: Db, id: string) =>
  db.query.tasks.findFirst({ where: eq(tasks.id, id), columns: { status: true, createdAt: true } });

interface Figures {
  start: number[];
  messageCall: number[];
  messageStored: number[];
}

/** Runs `runs` tasks one after another, then a parent whose child conversation gets `runs` messages. */
async function measure(app: AppServer, api: ApiClient, runs: number): Promise<Figures> {
  const db = openAppDb(app);
  const scratch = makeTempDir("sam-bench-nodes-");
  try {
    const repo = makeGitRepo(path.join(scratch.dir, "repo"), { files: { "README.md": "# nodes bench\n" } });
    const projectId = (await api.post<{ id: string }>("/api/projects", { repo })).body.id;
    const runTask = async () => {
      const id = (
        await api.post<{ id: string }>("/api/tasks", { projectId, prompt: script("Say hi.", [{ say: "hi" }]) })
      ).body.id;
      const first = await until(
        "the first event",
        () => events(db, id),
        (e) => e.length > 0,
      );
      await until(
        "the task's end",
        () => taskStatus(db, id),
        (t) => ["completed", "failed"].includes(t!.status),
      );
      const task = await taskStatus(db, id);
      return first[0]!.at.getTime() - task!.createdAt.getTime();
    };
    // The first task on a local node also starts its daemon: not what is measured.
    await runTask();
    const start: number[] = [];
    for (let i = 0; i < runs; i++) start.push(await runTask());

    const parent = (
      await api.post<{ id: string }>("/api/tasks", {
        projectId,
        prompt: script("Talk to a child.", [
          {
            tool: "dispatch_task",
            args: { title: "Listener", mode: "conversation", description: script("Listen.", [{ say: "ready" }]) },
          },
          { tool: "shell", args: { command: "sleep 600", timeoutMs: 600_000 } },
        ]),
      })
    ).body.id;
    const child = await until(
      "the child to wait for messages",
      () => db.query.tasks.findFirst({ where: eq(tasks.parentId, parent) }),
      (t) => t?.status === "awaiting_followup",
    );
    const minted = await runSam(["token", "mint", "--task", parent, "--json"], { SAM_DATA_DIR: app.dataDir });
    const { token } = JSON.parse(minted.stdout) as { token: string };
    const messageCall: number[] = [];
    const messageStored: number[] = [];
    for (let i = 0; i < runs; i++) {
      const turns = (await events(db, child!.id, "turn_ended")).length;
      const text = `ping ${i}`;
      const sentAt = Date.now();
      await callToolOk(app.baseUrl, token, "send_message_to_subtask", { taskId: child!.id, message: text });
      messageCall.push(Date.now() - sentAt);
      const received = await until(
        `message ${i} at the child`,
        () => events(db, child!.id, "user_message"),
        (e) => e.some((m) => m.payload.includes(text)),
      );
      messageStored.push(received.find((m) => m.payload.includes(text))!.at.getTime() - sentAt);
      // Each message reaches an idle session: the turn it started ends first.
      await until(
        "the child's turn to end",
        () => events(db, child!.id, "turn_ended"),
        (e) => e.length > turns,
      );
    }
    await api.post(`/api/tasks/${parent}/stop`, { reason: "bench done", graceSeconds: 0 });
    return { start, messageCall, messageStored };
  } finally {
    db.$client.close();
    scratch.cleanup();
  }
}

async function onLocalNode(runs: number): Promise<Figures> {
  const app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
  try {
    return await measure(app, await ownerApi(app), runs);
  } finally {
    await app.stop();
  }
}

async function onJoinedNode(runs: number): Promise<Figures> {
  const ns: Netns = createNetns();
  let app: AppServer | undefined;
  let node: JoinedNode | undefined;
  try {
    const port = await freePort();
    app = await startAppServer({
      env: { HOST: ns.hostIp, SAM_LOCAL_NODES: "0", SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" },
      port,
    });
    const webUrl = `http://${ns.hostIp}:${port}`;
    const { token } = await mintJoinToken(app, webUrl);
    node = await startJoinedNode({
      ns,
      webUrl,
      token,
      env: process.env.SAM_SANDBOX ? { SAM_SANDBOX: process.env.SAM_SANDBOX } : {},
    });
    return await measure(app, await ownerApi(app), runs);
  } finally {
    await node?.stop();
    await app?.stop();
    ns.destroy();
  }
}

function line(what: string, samples: number[]): string {
  const s = describe(samples);
  return `${what}: p50 ${fmt(s.median)}, p90 ${fmt(s.p90)} (min ${fmt(s.min)}, max ${fmt(s.max)}, n=${s.n})`;
}

async function main() {
  const unavailable = netnsUnavailableReason();
  if (unavailable) throw new Error(`bench:nodes needs network namespaces: ${unavailable}`);
  await ensureBuilt();
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const local = await onLocalNode(runs);
  const joined = await onJoinedNode(runs);
  const ratio = describe(joined.start).median / describe(local.start).median;
  console.log(
    [
      "bench:nodes — a joined node in its own network namespace against a local node",
      line("  message to a subtask, joined: call returns (node took it)", joined.messageCall),
      line("  message to a subtask, joined: its user_message stored", joined.messageStored),
      line("  message to a subtask, local:  call returns (node took it)", local.messageCall),
      line("  message to a subtask, local:  its user_message stored", local.messageStored),
      line("  task creation → first event, joined", joined.start),
      line("  task creation → first event, local ", local.start),
      `  start on the joined node: ${ratio.toFixed(2)}× the local node (goal ≤ 1.5×); message goal: p50 < 100 ms`,
    ].join("\n"),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
