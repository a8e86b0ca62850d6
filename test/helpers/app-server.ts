import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { until } from "../../agent-daemon/test/fake-web";
import { isRunning, listProcesses, mentions } from "../../agent-daemon/test/processes";
import { makeTempDir } from "./temp-dir";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface AppServer {
  baseUrl: string;
  port: number;
  signInLink: string;
  dataDir: string;
  output: () => string;
  /** Stops the server; by default also its local daemons and its data dir. */
  stop: (opts?: { keepDaemons?: boolean; keepData?: boolean }) => Promise<void>;
}

export interface AppServerOptions {
  env?: Record<string, string>;
  /** Reuse a data dir (a restart); default: a new temp dir. */
  dataDir?: string;
  port?: number;
}

/**
 * Kills what runs for the local nodes under a data dir: their daemons (detached, and possibly still
 * starting), harnesses and agent commands — every process that works in, or was started for, a node
 * directory. Resolves once they are gone.
 */
export async function killLocalDaemons(dataDir: string): Promise<void> {
  const nodesDir = path.join(dataDir, "nodes");
  const ours = listProcesses().filter((p) => p.pid !== process.pid && mentions(p.pid, nodesDir));
  for (const p of ours) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  // One that will not die is reported by the leftover-process check at the end of the run.
  await until(() => ours.every((p) => !isRunning(p.pid)), 10_000).catch(() => {});
}

/**
 * Starts the real app the way `npm start` does (migrate, serve, print a sign-in link) on
 * 127.0.0.1 with a data dir of its own. The build must already be current (global setup).
 */
export async function startAppServer(opts: AppServerOptions = {}): Promise<AppServer> {
  const temp = opts.dataDir ? undefined : makeTempDir("sam-app-");
  const dataDir = opts.dataDir ?? temp!.dir;
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/start.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        PORT: String(opts.port ?? 0),
        SAM_DATA_DIR: dataDir,
        NEXT_TELEMETRY_DISABLED: "1",
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
      // A process group of its own: tsx runs the app as its child, and stopping the group stops both.
      detached: true,
    },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const deadline = Date.now() + 90_000;
  let match: RegExpExecArray | null = null;
  while (!match) {
    match = /running at (http:\/\/\S+)[\s\S]*?^(http:\/\/\S+\/login\/\S+)$/m.exec(out);
    if (match) break;
    if (child.exitCode !== null) throw new Error(`The app exited before serving:\n${out}`);
    if (Date.now() > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`The app did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const baseUrl = match[1]!;
  return {
    baseUrl,
    port: Number(new URL(baseUrl).port),
    signInLink: match[2]!,
    dataDir,
    output: () => out,
    stop: async ({ keepDaemons = false, keepData = false } = {}) => {
      const group = child.pid!;
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-group, signal);
        } catch {
          // The whole group is gone.
        }
      };
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), 5000);
      await exited;
      await until(() => !listProcesses().some((p) => p.pgrp === group), 10_000);
      clearTimeout(timer);
      if (!keepDaemons) await killLocalDaemons(dataDir);
      if (!keepData) temp?.cleanup();
    },
  };
}
