import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { nodes } from "@/db/schema";
import { until } from "../../agent-daemon/test/fake-web";
import { isRunning, listProcesses, mentions } from "../../agent-daemon/test/processes";
import { openAppDb } from "./api";
import type { AppServer } from "./app-server";
import { runSam } from "./cli";
import type { Netns } from "./netns";
import { makeTempDir } from "./temp-dir";

const root = path.resolve(import.meta.dirname, "../..");
const DAEMON_BIN = path.join(root, "agent-daemon/bin/sam-daemon.mjs");

/** `sam node token --json` against a web app's data dir: a one-use join token and its command. */
export async function mintJoinToken(
  app: { dataDir: string },
  webUrl: string,
  opts: { labels?: string[]; ttlMinutes?: number } = {},
): Promise<{ token: string; joinCommand: string }> {
  const args = ["node", "token", "--json"];
  if (opts.labels) args.push("--labels", opts.labels.join(","));
  if (opts.ttlMinutes !== undefined) args.push("--ttl-minutes", String(opts.ttlMinutes));
  const run = await runSam(args, { SAM_DATA_DIR: app.dataDir, SAM_PUBLIC_URL: webUrl });
  if (run.code !== 0) throw new Error(`sam node token failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { token: string; joinCommand: string };
}

export interface JoinedNode {
  /** The node's id, from its node.json. */
  nodeId: string;
  /** Its --dir: node.json, workspaces, outbox, command log. */
  dir: string;
  child: ChildProcess;
  /** What the daemon printed. */
  output: () => string;
  /** Resolves with the daemon's exit code once it exited. */
  exited: Promise<number | null>;
  /** kill -9 of the daemon and everything it runs (its agents): the machine is gone. */
  kill: () => Promise<void>;
  /** Stops it as an operator would (SIGTERM), then whatever is left; keeps its dir unless asked. */
  stop: (opts?: { removeDir?: boolean }) => Promise<void>;
}

export interface JoinedNodeOptions {
  ns: Netns;
  /** The web app's URL as the namespace reaches it (http://<ns.hostIp>:<port>). */
  webUrl: string;
  /** The join token; not needed when `dir` holds a node.json (a restart). */
  token?: string;
  /** Reuse a node's directory (a restart); default a new temp dir, removed by `stop`. */
  dir?: string;
  name?: string;
  capacity?: number;
  labels?: string[];
  /** The daemon's environment besides PATH and HOME (SAM_SANDBOX, SAM_HEARTBEAT_MS, ...). */
  env?: Record<string, string>;
}

/** Kills every process that works in or was started for a node dir, and waits until they are gone. */
export async function killNodeProcesses(dir: string): Promise<void> {
  const ours = listProcesses().filter((p) => p.pid !== process.pid && mentions(p.pid, dir));
  for (const p of ours) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await until(() => ours.every((p) => !isRunning(p.pid)), 10_000).catch(() => {});
}

/**
 * Runs `sam daemon --join <webUrl> --token <token> --dir <dir>` inside the namespace, as on another
 * machine; resolves once the daemon listens (it has joined and holds its channel soon after).
 */
export async function startJoinedNode(opts: JoinedNodeOptions): Promise<JoinedNode> {
  const temp = opts.dir ? undefined : makeTempDir("sam-joined-");
  const dir = opts.dir ?? path.join(temp!.dir, "node");
  const args = [DAEMON_BIN, "--join", opts.webUrl, "--dir", dir];
  if (opts.token) args.push("--token", opts.token);
  if (opts.name) args.push("--name", opts.name);
  if (opts.capacity !== undefined) args.push("--capacity", String(opts.capacity));
  if (opts.labels) args.push("--labels", opts.labels.join(","));
  const child = opts.ns.spawn(process.execPath, args, {
    cwd: root,
    env: {
      NODE_ENV: "production",
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: process.env.LANG,
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  await until(() => /sam-daemon listening on/.test(out) || exitCode !== undefined, 60_000).catch(() => {});
  if (!/sam-daemon listening on/.test(out)) {
    child.kill("SIGKILL");
    await killNodeProcesses(dir);
    temp?.cleanup();
    throw new Error(`the joined daemon did not start:\n${out}`);
  }
  const { nodeId } = JSON.parse(fs.readFileSync(path.join(dir, "node.json"), "utf8")) as { nodeId: string };
  const kill = async () => {
    child.kill("SIGKILL");
    await killNodeProcesses(dir);
    await exited;
  };
  return {
    nodeId,
    dir,
    child,
    output: () => out,
    exited,
    kill,
    stop: async ({ removeDir = temp !== undefined } = {}) => {
      if (exitCode === undefined) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      await kill();
      if (removeDir) fs.rmSync(temp ? temp.dir : dir, { recursive: true, force: true });
    },
  };
}

/** A node's row as the web app stored it, read from its database. */
export async function nodeRow(app: AppServer, nodeId: string) {
  const db = openAppDb(app);
  try {
    return await db.query.nodes.findFirst({ where: eq(nodes.id, nodeId) });
  } finally {
    db.$client.close();
  }
}
