import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { daemonBundle } from "@/lib/nodes/daemon-bundle";
import { makeTempDir } from "../helpers/temp-dir";

const temp = makeTempDir("sam-daemon-bundle-");
afterAll(() => temp.cleanup());

/** Runs a command with nothing of this machine's Node setup: no NODE_OPTIONS, no tsx loader, no repo cwd. */
function bare(command: string, args: string[], cwd: string) {
  return spawnSync(command, args, {
    cwd,
    env: { NODE_ENV: "production", PATH: "/usr/local/bin:/usr/bin:/bin", HOME: cwd },
    encoding: "utf8",
  });
}

describe("the daemon bundle a cloud VM downloads", () => {
  it("is built once per version of the sources, its hash that of its bytes", async () => {
    const first = await daemonBundle(path.join(temp.dir, "data"));
    const again = await daemonBundle(path.join(temp.dir, "data"));
    expect(again).toEqual(first);
    expect(first.sha256).toBe(createHash("sha256").update(fs.readFileSync(first.file)).digest("hex"));
    expect(first.bytes).toBeLessThan(32 * 1024 * 1024);
  });

  it("runs with a plain node, away from the repository: no TypeScript, no tsx, libSQL's native binary inside", async () => {
    const bundle = await daemonBundle(path.join(temp.dir, "data"));
    const root = path.join(temp.dir, "vm");
    fs.mkdirSync(root);
    execFileSync("tar", ["-xzf", bundle.file, "-C", root, "--strip-components=1"]);
    const files = execFileSync("find", [".", "-type", "f"], { cwd: root, encoding: "utf8" }).split("\n");
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files).toContain("./node_modules/@libsql/linux-x64-gnu/index.node");
    expect(fs.readFileSync(path.join(root, "bin", "sam-daemon.mjs"), "utf8")).not.toContain("tsx");

    const help = bare("node", ["bin/sam-daemon.mjs", "--help"], root);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--join <url>");
    const harness = bare("node", ["bin/sam-harness.mjs", "--help"], root);
    expect(`${harness.stdout}${harness.stderr}`).toContain("usage: sam-harness");
    const libsql = bare(
      "node",
      [
        "--input-type=module",
        "-e",
        "import D from 'libsql'; const db = new D(':memory:'); console.log(db.prepare('select 41 + 1 as n').get().n)",
      ],
      root,
    );
    expect(libsql.stdout.trim()).toBe("42");
  });
});
