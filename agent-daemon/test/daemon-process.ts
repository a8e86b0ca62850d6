import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/sam-daemon.mjs");

export interface DaemonProcess {
  child: ChildProcess;
  /** The URL from the daemon's "listening on" line; rejects if it exits first. */
  url: Promise<string>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** GET/POST/DELETE against the daemon with the node token. */
  call: (method: string, route: string, body?: unknown) => Promise<{ status: number; body: unknown }>;
  stop: () => Promise<number | null>;
}

export function newNodeToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Runs `bin/sam-daemon.mjs` as a real process with the given environment and flags. */
export function spawnDaemon(env: Record<string, string>, args: string[] = []): DaemonProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`daemon exited with ${code}: ${stderr}`)));
  });
  // A daemon expected to refuse to start never reports a URL; that is not an unhandled failure.
  url.catch(() => {});
  const token = env.SAM_NODE_TOKEN ?? "";
  return {
    child,
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    call: async (method, route, body) => {
      const res = await fetch(`${await url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
