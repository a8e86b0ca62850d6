import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
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

/** Kills the daemon processes of the local nodes under a data dir (they run detached). */
export function killLocalDaemons(dataDir: string): void {
  const nodesDir = path.join(dataDir, "nodes");
  if (!fs.existsSync(nodesDir)) return;
  for (const node of fs.readdirSync(nodesDir)) {
    try {
      const { pid } = JSON.parse(fs.readFileSync(path.join(nodesDir, node, "daemon.json"), "utf8")) as { pid: number };
      process.kill(pid, "SIGKILL");
    } catch {
      // Not started, or already gone.
    }
  }
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
      child.kill("SIGKILL");
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
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepDaemons) killLocalDaemons(dataDir);
      if (!keepData) temp?.cleanup();
    },
  };
}
