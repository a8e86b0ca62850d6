import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "./temp-dir";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface AppServer {
  baseUrl: string;
  signInLink: string;
  dataDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts the real app the way `npm start` does (migrate, serve, print a sign-in link) on a free port
 * of 127.0.0.1 with a data dir of its own. The build must already be current (global setup).
 */
export async function startAppServer(env: Record<string, string> = {}): Promise<AppServer> {
  const { dir: dataDir, cleanup } = makeTempDir("sam-app-");
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/start.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        PORT: "0",
        SAM_DATA_DIR: dataDir,
        NEXT_TELEMETRY_DISABLED: "1",
        ...env,
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
  return {
    baseUrl: match[1]!,
    signInLink: match[2]!,
    dataDir,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}
