import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentInstaller } from "../../src/agents/install.ts";
import { type AgentSpec, agentSpec } from "../../src/agents/registry.ts";
import { makeTempDir } from "../temp-dir.ts";

// A real install from the npm registry (or npm's cache): Qwen Code and Node.js 22.
const INSTALL_MS = 300_000;

describe("the agent installer", () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeAll(() => {
    temp = makeTempDir("sam-agents-test-");
  });
  afterAll(() => temp.cleanup());

  it(
    "installs Qwen Code at its pinned version with Node.js 22 once, for every session that asks at the same time",
    async () => {
      const installer = new AgentInstaller(path.join(temp.dir, "agents"));
      const spec = agentSpec("qwen-code");
      const first = installer.ensure(spec);
      const second = installer.ensure(spec);
      expect(second).toBe(first);
      // While it installs, nothing is at the final place: a session can only get a complete install.
      expect(fs.existsSync(installer.dirOf(spec))).toBe(false);
      const [a, b] = await Promise.all([first, second]);
      expect(a).toEqual(b);
      expect(a.dir).toBe(path.join(temp.dir, "agents", "qwen-code-0.24.4"));
      expect(execFileSync(a.node, ["--version"], { encoding: "utf8" }).trim()).toBe("v22.23.2");
      expect(execFileSync(a.node, [a.entry, "--version"], { encoding: "utf8" }).trim()).toBe("0.24.4");
      // No scratch directory is left behind, and a later session reuses the install.
      expect(fs.readdirSync(path.join(temp.dir, "agents"))).toEqual(["qwen-code-0.24.4"]);
      const again = await new AgentInstaller(path.join(temp.dir, "agents")).ensure(spec);
      expect(again).toEqual(a);
    },
    INSTALL_MS,
  );

  it(
    "never uses a half install: a folder without its marker is installed again",
    async () => {
      const root = path.join(temp.dir, "half");
      const installer = new AgentInstaller(root);
      const spec = agentSpec("qwen-code");
      // What a copy interrupted mid-way would leave.
      fs.mkdirSync(path.join(installer.dirOf(spec), "node_modules"), { recursive: true });
      const installed = await installer.ensure(spec);
      expect(execFileSync(installed.node, [installed.entry, "--version"], { encoding: "utf8" }).trim()).toBe("0.24.4");
    },
    INSTALL_MS,
  );

  it(
    "fails with npm's reason when the package cannot be installed, leaving nothing behind",
    async () => {
      const root = path.join(temp.dir, "failing");
      const installer = new AgentInstaller(root);
      const missing: AgentSpec = {
        ...agentSpec("qwen-code"),
        package: { name: "@qwen-code/qwen-code", version: "0.0.0-no-such-version", bin: "qwen" },
      };
      await expect(installer.ensure(missing)).rejects.toThrow(
        /^installing @qwen-code\/qwen-code@0\.0\.0-no-such-version failed: npm exited with code 1: .*(ETARGET|No matching version)/s,
      );
      expect(fs.readdirSync(root)).toEqual([]);
    },
    INSTALL_MS,
  );
});
