import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthResponseSchema } from "../src/contract.ts";
import { type DaemonProcess, newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { makeTempDir } from "./temp-dir.ts";

interface ErrorBody {
  error: { code: string; message: string };
}

describe("agent daemon HTTP API", () => {
  const token = newNodeToken();
  let daemon: DaemonProcess;
  let url: string;
  const dataDir = makeTempDir("sam-daemon-");

  beforeAll(async () => {
    daemon = spawnDaemon({
      SAM_NODE_ID: "node-test",
      SAM_NODE_TOKEN: token,
      SAM_DAEMON_PORT: "0",
      SAM_DAEMON_DATA_DIR: dataDir.dir,
    });
    url = await daemon.url;
  });
  afterAll(async () => {
    await daemon.stop();
    dataDir.cleanup();
  });

  it("answers health to the node token", async () => {
    const res = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = healthResponseSchema.parse(await res.json());
    expect(body).toMatchObject({ nodeId: "node-test", capacity: 4, workspaces: 0, sessions: 0, outboxPending: 0 });
  });

  it("refuses a request without the node token, or with another token", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${token}x` }, { authorization: token }];
    for (const headers of attempts) {
      const res = await fetch(`${url}/health`, { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).error.code).toBe("unauthenticated");
    }
    // Even an unknown route says nothing to a caller without the token.
    expect((await fetch(`${url}/nowhere`)).status).toBe(401);
  });

  it("answers an unknown route or method with 404", async () => {
    const unknown = await daemon.call("GET", "/nowhere");
    expect(unknown.status).toBe(404);
    expect((unknown.body as ErrorBody).error.code).toBe("not_found");
    expect((await daemon.call("PUT", "/workspaces")).status).toBe(404);
  });

  it("refuses a body that breaks the contract with 400 invalid_input naming the field, and bad JSON with 400", async () => {
    const res = await daemon.call("POST", "/workspaces", {
      workspaceId: "ws-1",
      taskId: "task-1",
      repo: "/srv/repo",
      baseBranch: "main",
      branch: "main",
    });
    expect(res.status).toBe(400);
    expect((res.body as ErrorBody).error).toEqual({
      code: "invalid_input",
      message: "branch: must look like sam/<slug>-<short id>",
    });

    const stop = await daemon.call("POST", "/sessions/s-1/stop", { graceMs: 60_000, reason: "r" });
    expect(stop.status).toBe(400);
    expect((stop.body as ErrorBody).error.message).toMatch(/^graceMs: /);

    const raw = await fetch(`${url}/workspaces`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "{not json",
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as ErrorBody).error.code).toBe("invalid_json");
  });

  it("refuses a workspace id that is not a plain directory name", async () => {
    const res = await daemon.call("POST", "/workspaces", {
      workspaceId: "../escape",
      taskId: "task-1",
      repo: "/srv/repo",
      baseBranch: "main",
      branch: "sam/escape-1",
    });
    expect(res.status).toBe(400);
    expect((res.body as ErrorBody).error.message).toMatch(/^workspaceId: /);
  });

  it("refuses to start without a node token, naming the variable", async () => {
    const bad = spawnDaemon({ SAM_NODE_ID: "x", SAM_NODE_TOKEN: "", SAM_DAEMON_DATA_DIR: dataDir.dir });
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain("SAM_NODE_TOKEN");
  });
});

describe("daemon process", () => {
  const temp = makeTempDir("sam-daemon-process-");
  afterAll(() => temp.cleanup());

  it("prints one line with its URL, records pid, url and node id in daemon.json, and on SIGTERM exits 0 and removes it", async () => {
    const dataDir = path.join(temp.dir, "node-a");
    const daemon = spawnDaemon({ SAM_NODE_ID: "node-a", SAM_NODE_TOKEN: newNodeToken(), SAM_DAEMON_DATA_DIR: dataDir });
    const url = await daemon.url;
    expect(daemon.stdout()).toBe(`sam-daemon listening on ${url}\n`);
    const info = JSON.parse(fs.readFileSync(path.join(dataDir, "daemon.json"), "utf8")) as unknown;
    expect(info).toEqual({ pid: daemon.child.pid, url, nodeId: "node-a" });
    expect(fs.readdirSync(dataDir).filter((name) => name.endsWith(".tmp"))).toEqual([]);

    expect(await daemon.stop()).toBe(0);
    expect(fs.existsSync(path.join(dataDir, "daemon.json"))).toBe(false);
  });

  it("takes its settings from flags, which win over the environment", async () => {
    const token = newNodeToken();
    const daemon = spawnDaemon({ SAM_NODE_ID: "from-env", SAM_NODE_TOKEN: "too short", SAM_NODE_CAPACITY: "9" }, [
      "--node-id",
      "from-flags",
      `--token=${token}`,
      "--data-dir",
      path.join(temp.dir, "node-b"),
      "--capacity",
      "3",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ]);
    const res = await fetch(`${await daemon.url}/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(healthResponseSchema.parse(await res.json())).toMatchObject({ nodeId: "from-flags", capacity: 3 });
    expect(await daemon.stop()).toBe(0);
  });

  it("exits with status 2 naming the flag when a flag's value is invalid", async () => {
    const daemon = spawnDaemon(
      { SAM_NODE_ID: "n", SAM_NODE_TOKEN: newNodeToken(), SAM_DAEMON_DATA_DIR: path.join(temp.dir, "node-c") },
      ["--web-url", "ftp://nope"],
    );
    expect(await daemon.exited).toBe(2);
    expect(daemon.stderr()).toContain("--web-url");
    expect(daemon.stdout()).toBe("");
  });
});
