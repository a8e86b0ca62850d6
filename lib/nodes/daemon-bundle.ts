/**
 * The agent daemon as one archive for machines SAM sets up itself (cloud VMs): everything it needs
 * to run with a plain `node`, no npm install and no network but the web app's. esbuild bundles the
 * daemon and the built-in agent into single files; libSQL, a native module, ships beside them with
 * its Linux x64 binary. Built once per version of the sources and kept under the data dir.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { SamError } from "../errors";

const run = promisify(execFile);

export interface DaemonBundle {
  file: string;
  sha256: string;
  bytes: number;
}

/*
 * Inside the archive the bundled daemon sits two levels down (lib/daemon/), as its sources do
 * (src/<topic>/): the paths they resolve from their own file (bin/sam-harness.mjs,
 * bin/sam-sandbox-init.mjs, the daemon root that sandboxes see) land on the archive's own files.
 */
const DAEMON_FILE = "lib/daemon/main.mjs";
// The native module and what it loads at run time.
const NATIVE_PACKAGES = ["libsql", "@libsql/linux-x64-gnu", "@libsql/linux-x64-musl", "@neon-rs/load", "detect-libc"];
// Bundled CommonJS modules still `require` Node's own modules (and the native one).
const REQUIRE_BANNER =
  "import { createRequire as __samRequire } from 'node:module'; const require = __samRequire(import.meta.url);";

function daemonRoot(): string {
  return path.join(process.cwd(), "agent-daemon");
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

let computedKey: string | undefined;

/**
 * A hash of every input of the build: the daemon's sources, its package file, the native packages'
 * versions. Read once per process: a deployment's sources do not change under it.
 */
function sourcesKey(): string {
  computedKey ??= hashSources();
  return computedKey;
}

function hashSources(): string {
  const root = daemonRoot();
  const hash = createHash("sha256");
  for (const file of [...listFiles(path.join(root, "src")), ...listFiles(path.join(root, "bin"))]) {
    hash.update(path.relative(root, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  hash.update(fs.readFileSync(path.join(root, "package.json")));
  for (const name of NATIVE_PACKAGES) {
    const manifest = path.join(process.cwd(), "node_modules", name, "package.json");
    if (fs.existsSync(manifest)) hash.update(name).update(fs.readFileSync(manifest));
  }
  return hash.digest("hex").slice(0, 32);
}

async function esbuild(entry: string, outfile: string): Promise<void> {
  const bin = path.join(daemonRoot(), "node_modules", "esbuild", "bin", "esbuild");
  await run(
    fs.existsSync(bin) ? bin : path.join(process.cwd(), "node_modules", "esbuild", "bin", "esbuild"),
    [
      entry,
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--log-level=error",
      "--external:libsql",
      // The daemon bundles its agent with esbuild when it can; in the archive the agent is bundled already.
      "--external:esbuild",
      `--banner:js=${REQUIRE_BANNER}`,
      `--outfile=${outfile}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
}

async function build(target: string): Promise<void> {
  const root = daemonRoot();
  const stage = `${target}.${process.pid}.stage`;
  const top = path.join(stage, "sam-daemon");
  fs.rmSync(stage, { recursive: true, force: true });
  try {
    await esbuild(path.join(root, "src", "main.ts"), path.join(top, DAEMON_FILE));
    await esbuild(path.join(root, "src", "harness", "stdio-main.ts"), path.join(top, "bin", "sam-harness.mjs"));
    fs.copyFileSync(path.join(root, "bin", "sam-sandbox-init.mjs"), path.join(top, "bin", "sam-sandbox-init.mjs"));
    fs.writeFileSync(
      path.join(top, "bin", "sam-daemon.mjs"),
      `#!/usr/bin/env node\nawait import("../${DAEMON_FILE}");\n`,
    );
    for (const name of NATIVE_PACKAGES) {
      const from = path.join(process.cwd(), "node_modules", name);
      if (fs.existsSync(from))
        fs.cpSync(from, path.join(top, "node_modules", name), { recursive: true, dereference: true });
    }
    if (!fs.existsSync(path.join(top, "node_modules", "@libsql", "linux-x64-gnu"))) {
      throw new Error("libSQL's Linux x64 binary (@libsql/linux-x64-gnu) is not installed");
    }
    const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
    fs.writeFileSync(
      path.join(top, "package.json"),
      `${JSON.stringify({ name: "sam-daemon-bundle", version, private: true, type: "module" }, null, 2)}\n`,
    );
    for (const file of listFiles(top)) fs.chmodSync(file, file.includes(`${path.sep}bin${path.sep}`) ? 0o755 : 0o644);
    const temp = `${target}.${process.pid}.tmp`;
    // Same inputs, same bytes: sorted, no owners or times, gzip without a name or date.
    await run("tar", [
      "--sort=name",
      "--mtime=@0",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "-cf",
      `${temp}.tar`,
      "-C",
      stage,
      "sam-daemon",
    ]);
    await run("gzip", ["-n", "-9", "-f", `${temp}.tar`]);
    fs.renameSync(`${temp}.tar.gz`, target);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

// One build at a time in a process; others wait for it.
const globalForBundle = globalThis as unknown as { __samDaemonBundle?: Map<string, Promise<DaemonBundle>> };

/** The archive for the current sources, built on first use and kept under `<dataDir>/daemon-bundle`. */
export function daemonBundle(dataDir: string): Promise<DaemonBundle> {
  const key = sourcesKey();
  globalForBundle.__samDaemonBundle ??= new Map();
  const builds = globalForBundle.__samDaemonBundle;
  let pending = builds.get(key);
  if (!pending) {
    pending = (async () => {
      const dir = path.join(dataDir, "daemon-bundle");
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `sam-daemon-${key}.tar.gz`);
      if (!fs.existsSync(file)) await build(file);
      const bytes = fs.readFileSync(file);
      return { file, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
    })().catch((err: unknown) => {
      builds.delete(key);
      const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      throw new SamError("unavailable", `The daemon bundle could not be built: ${detail}`);
    });
    builds.set(key, pending);
  }
  return pending;
}
