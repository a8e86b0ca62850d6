import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { NETWORK_SETTINGS_ENV } from "@sam/agent-daemon/contract";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes } from "@/db/schema";
import type { SamConfig } from "../config";
import { newId } from "../ids";
import type { HttpDaemonTarget } from "./daemon-client";
import { holdDaemon } from "./daemon-hold";
import type { LocalRef } from "./local-daemon-process";
import { declareNodeLost } from "./lost-nodes";
import { mintNodeToken, nodeTokenOf } from "./node-tokens";

/** Where a local node keeps its workspaces, mirrors, outbox and log. */
function nodeDir(config: SamConfig, nodeId: string): string {
  return path.join(config.dataDir, "nodes", nodeId);
}

function daemonBin(): string {
  return path.join(process.cwd(), "agent-daemon", "bin", "sam-daemon.mjs");
}

async function waitForDaemonFile(file: string, child: { exitCode: number | null }, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the daemon exited with code ${child.exitCode}`);
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as { pid: number; url: string; nodeId: string };
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`the daemon did not report its address within ${timeoutMs} ms`);
}

/**
 * Holds a local node's daemon for as long as this process runs (see `holdDaemon`); when the daemon
 * dies, the node is lost at once, and its tasks fail with the reason.
 */
function holdLocalDaemon(db: Db, nodeId: string, target: HttpDaemonTarget, webUrl: string): Promise<void> {
  return holdDaemon(nodeId, target, webUrl, () => {
    declareNodeLost(db, nodeId, "node lost: its daemon exited").catch((err: unknown) =>
      console.error(`sam: could not record that node ${nodeId} was lost: ${(err as Error).message}`),
    );
  });
}

function reachabilityEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  // The daemon installs agents with npm and forwards model requests through this machine's network settings.
  for (const name of NETWORK_SETTINGS_ENV) if (process.env[name]) env[name] = process.env[name] as string;
  return env;
}

/**
 * Starts a daemon process on this machine as a new node, if the local node limit allows one more.
 * The daemon runs detached, so a busy one outlives a restart of the web app, which takes it over
 * (`adoptLocalNodes`); while this process lives it holds the daemon, and a daemon nobody holds exits
 * once idle. Returns the node id, or undefined when the limit is reached.
 */
export async function provisionLocalNode(db: Db, config: SamConfig, webUrl: string): Promise<string | undefined> {
  const nodeId = newId();
  // Invariant: at most `localMaxNodes` live local nodes, even when several ticks provision at once.
  const inserted = await db.run(sql`
    INSERT INTO nodes (id, name, provider, status, capacity)
    SELECT ${nodeId}, ${`local-${nodeId.slice(0, 8)}`}, 'local', 'provisioning', ${config.scheduler.nodeCapacity}
    WHERE (SELECT count(*) FROM nodes WHERE provider = 'local' AND status IN ('provisioning', 'ready', 'warm'))
      < ${config.scheduler.localMaxNodes}`);
  if (inserted.rowsAffected === 0) return undefined;

  const { token, ciphertext } = await mintNodeToken(db, nodeId);
  await db.update(nodes).set({ tokenCiphertext: ciphertext }).where(eq(nodes.id, nodeId));
  const dir = nodeDir(config, nodeId);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = fs.openSync(path.join(dir, "daemon.log"), "a");
  // The daemon reads the token from this file and deletes it: not in its environment, where an
  // agent's shell could read it from /proc.
  const tokenFile = path.join(dir, "node-token");
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });
  const child = spawn(process.execPath, [daemonBin()], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", log, log],
    env: {
      NODE_ENV: "production",
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: process.env.LANG,
      ...reachabilityEnv(),
      SAM_NODE_ID: nodeId,
      SAM_NODE_TOKEN_FILE: tokenFile,
      SAM_DAEMON_HOST: "127.0.0.1",
      SAM_DAEMON_PORT: "0",
      SAM_NODE_CAPACITY: String(config.scheduler.nodeCapacity),
      SAM_DAEMON_DATA_DIR: dir,
      SAM_WEB_URL: webUrl,
      SAM_HEARTBEAT_MS: String(config.scheduler.heartbeatMs),
      SAM_SANDBOX: config.sandbox,
      SAM_SANDBOX_MAX_PROCESSES: String(config.sandboxLimits.processes),
      SAM_SANDBOX_MAX_MEMORY_MB: String(config.sandboxLimits.memoryMb),
      SAM_SANDBOX_UID: String(config.sandboxLimits.uid),
      SAM_ORPHAN_EXIT_MS: String(config.scheduler.orphanExitMs),
    },
  });
  fs.closeSync(log);
  child.unref();
  try {
    const info = await waitForDaemonFile(path.join(dir, "daemon.json"), child, 30_000);
    await holdLocalDaemon(db, nodeId, { url: info.url, token }, webUrl);
    const ready = await db
      .update(nodes)
      .set({
        status: "ready",
        url: info.url,
        providerRef: JSON.stringify({ pid: info.pid, dir } satisfies LocalRef),
        lastHeartbeatAt: new Date(),
      })
      // Invariant: a node lost while it started (its daemon died at once) stays lost.
      .where(and(eq(nodes.id, nodeId), eq(nodes.status, "provisioning")))
      .returning({ id: nodes.id });
    if (ready.length === 0) throw new Error("its daemon exited while it started");
    return nodeId;
  } catch (err) {
    child.kill("SIGKILL");
    await declareNodeLost(db, nodeId, `node failed to start: ${(err as Error).message}`);
    throw err;
  }
}

// Shared by every copy of this module in the process (Next bundles route handlers separately).
const globalForAdoption = globalThis as unknown as { __samAdoption?: Promise<void> };

/**
 * Takes over, once per process, the local daemons an earlier run of this web app left running: each
 * one that answers is held again, told where the web app listens now, and counts as alive; one that
 * does not is lost, and so is a node that was still starting (its daemon, never held, exits by
 * itself). The scheduler's passes wait for it, so a node is never declared lost only because the web
 * app was down.
 */
export function adoptLocalNodes(db: Db, config: SamConfig, webUrl: string): Promise<void> {
  globalForAdoption.__samAdoption ??= adopt(db, config, webUrl).catch((err: unknown) => {
    console.error(`sam: taking over local nodes failed: ${(err as Error).message}`);
  });
  return globalForAdoption.__samAdoption;
}

async function adopt(db: Db, config: SamConfig, webUrl: string): Promise<void> {
  const candidates = await db
    .select()
    .from(nodes)
    .where(and(eq(nodes.provider, "local"), inArray(nodes.status, ["provisioning", "ready", "warm", "draining"])));
  // Only this instance's own nodes: another instance on the same database has its own data dir.
  const own = candidates.filter((node) => fs.existsSync(nodeDir(config, node.id)));
  await Promise.all(
    own.map(async (node) => {
      if (node.status === "provisioning" || !node.url) {
        await declareNodeLost(db, node.id, "node failed to start: the web app stopped while it started");
        return;
      }
      try {
        await holdLocalDaemon(db, node.id, { url: node.url, token: nodeTokenOf(node) }, webUrl);
      } catch {
        await declareNodeLost(db, node.id, "node lost: its daemon did not outlive the web app");
        return;
      }
      // As good as a heartbeat: it answered just now.
      await db.update(nodes).set({ lastHeartbeatAt: new Date() }).where(eq(nodes.id, node.id));
    }),
  );
}
