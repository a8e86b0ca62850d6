import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config.ts";
import { makeTempDir } from "./temp-dir.ts";

const TOKEN = "n".repeat(40);
const ENV = { SAM_NODE_ID: "node-env", SAM_NODE_TOKEN: TOKEN, SAM_DAEMON_DATA_DIR: "/tmp/sam-env" };

describe("daemon configuration", () => {
  it("reads the node token from a token file and deletes the file, keeping it out of the environment", () => {
    const dir = makeTempDir();
    const file = path.join(dir.dir, "node-token");
    fs.writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const result = readConfig([], { SAM_NODE_ID: "n1", SAM_NODE_TOKEN_FILE: file, SAM_DAEMON_DATA_DIR: dir.dir });
    expect(result.ok && result.config.nodeToken).toBe(TOKEN);
    expect(fs.existsSync(file)).toBe(false);
    const missing = readConfig(["--token-file", file], { SAM_NODE_ID: "n1", SAM_DAEMON_DATA_DIR: dir.dir });
    expect(missing).toMatchObject({ ok: false, errors: [expect.stringContaining("--token-file: cannot read")] });
    dir.cleanup();
  });

  it("reads every setting from the environment, with defaults for the optional ones", () => {
    const result = readConfig([], ENV);
    expect(result).toEqual({
      ok: true,
      config: {
        nodeId: "node-env",
        nodeToken: TOKEN,
        dataDir: "/tmp/sam-env",
        host: "127.0.0.1",
        port: 0,
        capacity: 4,
        heartbeatMs: 10_000,
        sandbox: "on",
        sandboxMaxProcesses: 1024,
        sandboxMaxMemoryMb: 8192,
        sandboxUid: 2_000_000_000,
      },
    });
  });

  it("flags win over the environment, in both --flag value and --flag=value forms", () => {
    const result = readConfig(
      [
        "--node-id",
        "node-flag",
        "--port=4123",
        "--capacity",
        "2",
        "--web-url",
        "http://127.0.0.1:3000",
        "--heartbeat-ms=500",
        "--host",
        "0.0.0.0",
        "--data-dir",
        "/tmp/sam-flag",
      ],
      { ...ENV, SAM_DAEMON_PORT: "9999", SAM_NODE_CAPACITY: "8" },
    );
    expect(result.ok && result.config).toMatchObject({
      nodeId: "node-flag",
      port: 4123,
      capacity: 2,
      webUrl: "http://127.0.0.1:3000",
      heartbeatMs: 500,
      host: "0.0.0.0",
      dataDir: "/tmp/sam-flag",
    });
  });

  it("names the flag or the variable that holds a bad value", () => {
    const fromFlag = readConfig(["--capacity", "0"], ENV);
    expect(fromFlag.ok).toBe(false);
    expect(!fromFlag.ok && fromFlag.errors.join("\n")).toMatch(/^--capacity: /);
    const fromEnv = readConfig([], { ...ENV, SAM_WEB_URL: "not a url" });
    expect(!fromEnv.ok && fromEnv.errors.join("\n")).toMatch(/^SAM_WEB_URL: /);
    const notHttp = readConfig(["--web-url", "ftp://example.com"], ENV);
    expect(notHttp).toEqual({ ok: false, errors: ["--web-url: must be an http(s) URL"] });
    const missing = readConfig([], { SAM_NODE_ID: "x" });
    expect(!missing.ok && missing.errors.join("\n")).toContain("SAM_NODE_TOKEN");
    expect(!missing.ok && missing.errors.join("\n")).toContain("SAM_DAEMON_DATA_DIR");
  });

  it("refuses unknown arguments and a flag without a value", () => {
    expect(readConfig(["--verbose"], ENV)).toEqual({ ok: false, errors: ['unknown argument "--verbose"'] });
    expect(readConfig(["--port"], ENV)).toEqual({ ok: false, errors: ["--port needs a value"] });
  });

  it("treats an empty variable as unset", () => {
    const result = readConfig([], { ...ENV, SAM_WEB_URL: "", SAM_DAEMON_PORT: "" });
    expect(result.ok && result.config.webUrl).toBeUndefined();
    expect(result.ok && result.config.port).toBe(0);
  });
});
