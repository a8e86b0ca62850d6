/**
 * The node's sandbox: whether it confines agents (on, off by the operator, or unavailable), the
 * unprivileged user agents run as, and how a confined process is started.
 *
 * Fail closed: if bubblewrap cannot start here, the node says so (heartbeat) and every session
 * start fails with a reason that says how to fix it. Only `SAM_SANDBOX=off` runs agents unconfined.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxState } from "../contract.ts";
import { bwrapArgs, SANDBOX_HOME, SANDBOX_USER, type SandboxLimits, type SandboxSpec } from "./bwrap-args.ts";

const DAEMON_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PROBE_TIMEOUT_MS = 10_000;

const FIX_HINT =
  "install bubblewrap and util-linux (apt-get install bubblewrap util-linux), make sure the kernel allows " +
  "namespaces (in a container: run it privileged or with the needed capabilities), or set SAM_SANDBOX=off " +
  "to run agents unconfined";

export class SandboxUnavailableError extends Error {
  constructor(reason: string) {
    super(`the sandbox cannot start on this node: ${reason}; to fix it, ${FIX_HINT}`);
    this.name = "SandboxUnavailableError";
  }
}

export interface SandboxOptions {
  mode: "on" | "off";
  limits: SandboxLimits;
  /** The uid and gid agents run as when the daemon is root (far above the ids people and containers use). */
  agentId: number;
  /** More host directories bound read-only (the built-in agent's bundle). */
  readOnly?: Array<{ source: string; dest: string }>;
}

/** Per-workspace host directories the sandbox is built from. */
export interface SandboxDirs {
  workspace: string;
  home: string;
  tmp: string;
  /** Holds the generated passwd and group files. */
  run: string;
}

// Where the daemon's code and a Node.js installation outside /usr appear inside the sandbox.
const CODE_DIR = "/opt/sam";
const NODE_DIR = "/opt/node";

/**
 * The daemon's code and every node_modules folder Node.js may resolve it from (their layout kept
 * under /opt/sam), and the Node.js installation when it is outside /usr: bound read-only so the
 * built-in agent can run inside the sandbox.
 */
function codeMounts(): Array<{ source: string; dest: string }> {
  const sources = [DAEMON_ROOT];
  for (let dir = DAEMON_ROOT; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const modules = path.join(dir, "node_modules");
    if (fs.existsSync(modules)) sources.push(modules);
  }
  const real = sources.map((source) => fs.realpathSync(source));
  const base = path.dirname(real.at(-1) ?? DAEMON_ROOT);
  const mounts = real.map((source) => ({ source, dest: path.join(CODE_DIR, path.relative(base, source)) }));
  const nodePrefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  if (!nodePrefix.startsWith("/usr/")) mounts.push({ source: nodePrefix, dest: NODE_DIR });
  return mounts;
}

/** bubblewrap on the daemon's PATH (the sandbox's own environment has another). */
function findBwrap(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir || ".", "bwrap");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

export class Sandbox {
  private status: { state: SandboxState; error?: string };
  readonly readOnly: Array<{ source: string; dest: string }>;
  private readonly root = process.getuid?.() === 0;
  readonly agentId: number;
  private bwrap: string | undefined;

  constructor(private readonly options: SandboxOptions) {
    this.status = options.mode === "off" ? { state: "off" } : { state: "unavailable", error: "not probed yet" };
    this.agentId = this.root ? options.agentId : (process.getuid?.() ?? 0);
    this.readOnly = [...codeMounts(), ...(options.readOnly ?? [])];
  }

  get enabled(): boolean {
    return this.options.mode === "on";
  }

  report(): { state: SandboxState; error?: string } {
    return this.status;
  }

  /** The owner agents' files get on the host (root daemons hand the workspace to the agent's user). */
  get agentOwner(): { uid: number; gid: number } | undefined {
    return this.root && this.enabled ? { uid: this.agentId, gid: this.agentId } : undefined;
  }

  /** Refuses a data dir that would be visible inside the sandbox through the code it binds. */
  assertHidden(dataDir: string): void {
    const resolved = path.resolve(dataDir);
    const visible = this.readOnly.find((mount) => inside(mount.source, resolved));
    if (visible) {
      throw new Error(
        `the data dir ${resolved} lies inside ${visible.source}, which agents' sandboxes can read; move it`,
      );
    }
  }

  /** Where a file of the daemon's code or of Node.js is seen inside the sandbox. */
  insidePath(hostPath: string): string {
    const real = fs.realpathSync(hostPath);
    for (const mount of this.readOnly) {
      if (inside(mount.source, real)) return path.join(mount.dest, path.relative(mount.source, real));
    }
    return real;
  }

  /**
   * Starts a trivial command in a sandbox like a session's: sets the state to `on` if it runs,
   * `unavailable` with bubblewrap's own words if not.
   */
  async probe(scratch: string): Promise<void> {
    if (!this.enabled) return;
    this.bwrap = findBwrap();
    if (!this.bwrap) {
      this.status = { state: "unavailable", error: "bubblewrap (bwrap) is not installed or not on the PATH" };
      return;
    }
    const dirs = this.prepare(path.join(scratch, "probe"));
    try {
      const child = this.launch(dirs, "none", ["/bin/true"], {});
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | string>((resolve) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          resolve("timed out");
        }, PROBE_TIMEOUT_MS);
        child.once("error", (err) => {
          clearTimeout(timer);
          resolve(err.message);
        });
        child.once("close", (exit) => {
          clearTimeout(timer);
          resolve(exit ?? "killed");
        });
      });
      this.status =
        code === 0
          ? { state: "on" }
          : {
              state: "unavailable",
              error: `bubblewrap failed (${typeof code === "number" ? `exit ${code}` : code}): ${stderr.trim().slice(0, 1000) || "no output"}`,
            };
    } finally {
      fs.rmSync(path.join(scratch, "probe"), { recursive: true, force: true });
    }
  }

  /**
   * Makes a workspace's sandbox directories under `stateDir` (private HOME and /tmp, owned by the
   * agent's user; the passwd and group files the sandbox sees).
   */
  prepare(stateDir: string, workspace = path.join(stateDir, "workspace")): SandboxDirs {
    const dirs: SandboxDirs = {
      workspace,
      home: path.join(stateDir, "home"),
      tmp: path.join(stateDir, "tmp"),
      run: path.join(stateDir, "run"),
    };
    for (const dir of [dirs.home, dirs.tmp, dirs.run, workspace]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const owner = this.agentOwner;
    if (owner) for (const dir of [dirs.home, dirs.tmp, workspace]) fs.chownSync(dir, owner.uid, owner.gid);
    // bwrap enters the workspace before it drops to the agent's user, without the right to override
    // permissions: the workspace must be open to others, as a checkout's directories are.
    fs.chmodSync(workspace, 0o755);
    const id = this.agentId;
    fs.writeFileSync(
      path.join(dirs.run, "passwd"),
      `root:x:0:0:root:/root:/usr/sbin/nologin\n${SANDBOX_USER}:x:${id}:${id}:SAM agent:${SANDBOX_HOME}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    );
    fs.writeFileSync(path.join(dirs.run, "group"), `root:x:0:\n${SANDBOX_USER}:x:${id}:\nnogroup:x:65534:\n`);
    return dirs;
  }

  /** Starts `command` confined to the workspace, or throws why it cannot. */
  spawn(
    dirs: SandboxDirs,
    network: "open" | "none",
    command: string[],
    opts: { env?: Record<string, string>; bridgeDir?: string } = {},
  ): ChildProcessWithoutNullStreams {
    if (!this.enabled) throw new Error("the sandbox is off on this node");
    if (this.status.state === "unavailable") throw new SandboxUnavailableError(this.status.error ?? "unknown");
    return this.launch(dirs, network, command, opts);
  }

  private launch(
    dirs: SandboxDirs,
    network: "open" | "none",
    command: string[],
    opts: { env?: Record<string, string>; bridgeDir?: string },
  ): ChildProcessWithoutNullStreams {
    const spec: SandboxSpec = {
      workspace: dirs.workspace,
      home: dirs.home,
      tmp: dirs.tmp,
      network,
      readOnly: this.readOnly,
      ...(opts.bridgeDir ? { runDir: opts.bridgeDir } : {}),
      passwdFile: path.join(dirs.run, "passwd"),
      groupFile: path.join(dirs.run, "group"),
      limits: this.options.limits,
      drop: this.root ? { kind: "setpriv", uid: this.agentId, gid: this.agentId } : { kind: "userns" },
      command,
    };
    return spawn(this.bwrap ?? "bwrap", bwrapArgs(spec), {
      env: { ...(opts.env ?? {}), HOME: SANDBOX_HOME, USER: SANDBOX_USER, LOGNAME: SANDBOX_USER, TMPDIR: "/tmp" },
      stdio: ["pipe", "pipe", "pipe"],
    });
  }
}
