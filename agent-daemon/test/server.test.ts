import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthResponseSchema } from "../src/contract.ts";
import { makeTempDir } from "./temp-dir.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/sam-daemon.mjs");

function startDaemon(env: Record<string, string>): { child: ChildProcess; url: Promise<string>; stderr: () => string } {
  const child = spawn(process.execPath, [bin], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`daemon exited with ${code}: ${stderr}`)));
  });
  // A daemon expected to refuse to start never reports a URL; that is not an unhandled failure.
  url.catch(() => {});
  return { child, url, stderr: () => stderr };
}

describe("agent daemon HTTP API", () => {
  const token = randomBytes(32).toString("base64url");
  let daemon: ReturnType<typeof startDaemon>;
  let url: string;
  const dataDir = makeTempDir("sam-daemon-");

  beforeAll(async () => {
    daemon = startDaemon({
      SAM_NODE_ID: "node-test",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_PORT: "0",
      SAM_DAEMON_DATA_DIR: dataDir.dir,
    });
    url = await daemon.url;
  });
  afterAll(() => {
    daemon.child.kill("SIGTERM");
    dataDir.cleanup();
  });

  it("answers health to the node token", async () => {
    const res = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = healthResponseSchema.parse(await res.json());
    expect(body.nodeId).toBe("node-test");
    expect(body.capacity).toBe(4);
  });

  it("refuses a request without the node token, or with another token", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${token}x` }, { authorization: token }];
    for (const headers of attempts) {
      const res = await fetch(`${url}/health`, { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
    }
  });

  it("refuses to start without a node token, naming the variable", async () => {
    const bad = startDaemon({ SAM_NODE_ID: "x", SAM_NODE_TOKEN: "", SAM_DAEMON_DATA_DIR: dataDir.dir });
    const code = await new Promise<number | null>((resolve) => bad.child.once("exit", resolve));
    expect(code).toBe(2);
    expect(bad.stderr()).toContain("SAM_NODE_TOKEN");
  });
});
