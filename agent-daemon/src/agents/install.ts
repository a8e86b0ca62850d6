/**
 * Installs external agents on first use into the node's own cache, `<agents dir>/<kind>-<version>/`,
 * each with the Node.js it runs on (npm's `node` package). An install is built in a scratch
 * directory and renamed into place once complete, with a marker file written last: a half install
 * is never used. Sessions that need the same agent at once share one install.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { NETWORK_SETTINGS_ENV } from "../contract.ts";
import { safeEnv } from "../harness/safe-env.ts";
import { AGENT_NODE_PACKAGE, type AgentSpec } from "./registry.ts";

const MARKER = ".sam-installed";
// npm's own words on a failure are long (a log path, a stack): the tail says what went wrong.
const NPM_OUTPUT_CHARS = 2000;

/** An installed agent: the host paths of its Node.js and its entry script. */
export interface InstalledAgent {
  dir: string;
  node: string;
  entry: string;
}

function locate(dir: string, spec: AgentSpec): InstalledAgent {
  const pkg = spec.package;
  if (!pkg) throw new Error(`${spec.title} is not installed from npm`);
  const bin = path.join(dir, "node_modules", ".bin");
  return {
    dir,
    node: fs.realpathSync(path.join(bin, "node")),
    // The script the package's bin links to, run with the agent's own Node.js rather than its shebang's.
    entry: fs.realpathSync(path.join(bin, pkg.bin)),
  };
}

function runNpm(args: string[], cwd: string): Promise<void> {
  const env: Record<string, string> = {};
  // npm gets the allowlisted environment and the machine's network settings, nothing else of the daemon's.
  for (const name of NETWORK_SETTINGS_ENV) if (process.env[name]) env[name] = process.env[name] as string;
  return new Promise((resolve, reject) => {
    const child = spawn("npm", args, { cwd, env: { ...safeEnv(), ...env }, stdio: ["pipe", "pipe", "pipe"] });
    // npm asks nothing of an install: its input is closed.
    child.stdin.end();
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-NPM_OUTPUT_CHARS * 4);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", (err) => reject(new Error(`npm could not be started: ${err.message}`)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        reject(new Error(`npm exited with ${how}: ${output.trim().slice(-NPM_OUTPUT_CHARS) || "no output"}`));
      }
    });
  });
}

export class AgentInstaller {
  private readonly installing = new Map<string, Promise<InstalledAgent>>();

  /** `root` is bound read-only into sandboxes: it holds nothing but installed agents. */
  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    fs.chmodSync(root, 0o755);
    // Scratch directories of installs a previous run did not finish.
    for (const name of fs.readdirSync(root)) {
      if (name.startsWith(".tmp-")) fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }

  dirOf(spec: AgentSpec): string {
    const pkg = spec.package;
    if (!pkg) throw new Error(`${spec.title} is not installed from npm`);
    return path.join(this.root, `${spec.kind}-${pkg.version}`);
  }

  /** The agent, installed now if it is not yet; rejects with npm's reason if that fails. */
  ensure(spec: AgentSpec): Promise<InstalledAgent> {
    const dir = this.dirOf(spec);
    if (fs.existsSync(path.join(dir, MARKER))) return Promise.resolve(locate(dir, spec));
    let pending = this.installing.get(dir);
    if (!pending) {
      pending = this.install(spec, dir).finally(() => this.installing.delete(dir));
      this.installing.set(dir, pending);
    }
    return pending;
  }

  private async install(spec: AgentSpec, dir: string): Promise<InstalledAgent> {
    const pkg = spec.package;
    if (!pkg) throw new Error(`${spec.title} is not installed from npm`);
    const scratch = path.join(this.root, `.tmp-${path.basename(dir)}-${randomBytes(4).toString("hex")}`);
    fs.mkdirSync(scratch, { mode: 0o755 });
    try {
      // A package.json of its own, so npm installs here and never walks up to another project.
      fs.writeFileSync(path.join(scratch, "package.json"), '{"private":true}\n');
      await runNpm(
        [
          "install",
          "--prefix",
          scratch,
          "--no-audit",
          "--no-fund",
          "--no-update-notifier",
          "--loglevel=error",
          `${pkg.name}@${pkg.version}`,
          AGENT_NODE_PACKAGE,
        ],
        scratch,
      );
      const installed = locate(scratch, spec);
      if (!fs.existsSync(installed.entry)) throw new Error(`the package has no ${pkg.bin} command`);
      fs.writeFileSync(path.join(scratch, MARKER), `${pkg.name}@${pkg.version} ${AGENT_NODE_PACKAGE}\n`);
      if (fs.existsSync(dir)) {
        // Only a complete install is ever renamed into place; a leftover without its marker is not one.
        if (fs.existsSync(path.join(dir, MARKER))) {
          fs.rmSync(scratch, { recursive: true, force: true });
          return locate(dir, spec);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
      fs.renameSync(scratch, dir);
      return locate(dir, spec);
    } catch (err) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw new Error(`installing ${pkg.name}@${pkg.version} failed: ${(err as Error).message}`);
    }
  }
}
