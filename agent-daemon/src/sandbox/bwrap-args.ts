/**
 * The bubblewrap command line for one agent session: what the sandbox sees, as a pure function of
 * its spec, so the whole policy reads in one place.
 *
 * The sandbox starts from an empty root and gets, and only gets: the read-only system directories
 * programs need, the parts of /etc that do no harm, its workspace read-write, a private HOME and
 * /tmp, the daemon's own code read-only (the built-in agent runs from it), and, when its network
 * is `none`, the directory holding the socket through which the MCP endpoint is reached.
 */
import fs from "node:fs";
import path from "node:path";

/** The parts of /etc programs need to run, resolve names, verify TLS and find their libraries. */
const ETC_ENTRIES = [
  "alternatives",
  "bash.bashrc",
  "ca-certificates",
  "ca-certificates.conf",
  "crypto-policies",
  "debian_version",
  "gai.conf",
  "host.conf",
  "hosts",
  "inputrc",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "mime.types",
  "nsswitch.conf",
  "os-release",
  "pki",
  "profile",
  "protocols",
  "resolv.conf",
  "services",
  "ssl/certs",
  "ssl/openssl.cnf",
  "terminfo",
  "timezone",
] as const;

/** Top-level system directories, bound read-only, or recreated as the symlinks they are (merged /usr). */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] as const;

export const SANDBOX_WORKSPACE = "/workspace";
export const SANDBOX_HOME = "/home/sam";
export const SANDBOX_RUN_DIR = "/run/sam";
export const SANDBOX_USER = "sam";

export interface SandboxLimits {
  /** RLIMIT_NPROC inside the sandbox (processes and threads of the session). */
  processes: number;
  /** RLIMIT_DATA of each process, in bytes. */
  memoryBytes: number;
}

export interface SandboxSpec {
  /** Host path of the workspace, bound read-write at /workspace; the command's cwd. */
  workspace: string;
  /** Host directories that become the sandbox's HOME and /tmp. */
  home: string;
  tmp: string;
  network: "open" | "none";
  /** Host paths bound read-only where the sandbox sees them (the daemon's code, Node.js). */
  readOnly: Array<{ source: string; dest: string }>;
  /** Host directory bound read-only at /run/sam (the MCP bridge's socket), if any. */
  runDir?: string;
  /** The /etc/passwd and /etc/group the sandbox sees (files the daemon wrote). */
  passwdFile: string;
  groupFile: string;
  limits: SandboxLimits;
  /**
   * How the session drops to its unprivileged user: `setpriv` when the daemon runs as root (bwrap
   * sets the sandbox up as root, then the command runs as `uid`), `userns` otherwise (an
   * unprivileged user namespace, the daemon's own uid).
   */
  drop: { kind: "setpriv"; uid: number; gid: number } | { kind: "userns" };
  command: string[];
}

/** Every ancestor of `dir`, outermost first, without `/`. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) out.unshift(d);
  return out;
}

function systemDirArgs(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isSymbolicLink()) args.push("--symlink", fs.readlinkSync(dir), dir);
    else args.push("--ro-bind", dir, dir);
  }
  return args;
}

export function bwrapArgs(spec: SandboxSpec): string[] {
  const binds: Array<[flag: string, source: string, dest: string]> = [
    ...spec.readOnly.map(({ source, dest }): [string, string, string] => ["--ro-bind", source, dest]),
    ["--bind", spec.workspace, SANDBOX_WORKSPACE],
    ["--bind", spec.home, SANDBOX_HOME],
    ["--bind", spec.tmp, "/tmp"],
    ["--ro-bind", spec.passwdFile, "/etc/passwd"],
    ["--ro-bind", spec.groupFile, "/etc/group"],
  ];
  if (spec.runDir) binds.push(["--ro-bind", spec.runDir, SANDBOX_RUN_DIR]);

  // Directories bwrap makes on the way to a mount point are 0700 root when it runs as root, which
  // the agent's user could not traverse: they are made first, world-traversable.
  const parents = new Set<string>(["/etc", "/etc/ssl", "/home", "/run"]);
  for (const [, , dest] of binds) for (const dir of ancestors(dest)) parents.add(dir);
  const dirArgs = [...parents]
    .sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b))
    .flatMap((dir) => ["--perms", "0755", "--dir", dir]);

  const isolation = [
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    ...(spec.network === "none" ? ["--unshare-net"] : []),
    "--hostname",
    "sam-sandbox",
    // The sandbox ends with the daemon, and cannot push input into the daemon's terminal (TIOCSTI).
    "--die-with-parent",
    "--new-session",
  ];
  const user =
    spec.drop.kind === "userns"
      ? ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
      : // setuid/setgid survive only until setpriv has switched users; setpriv then clears them all.
        ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"];

  const drop =
    spec.drop.kind === "setpriv"
      ? [
          "/usr/bin/setpriv",
          `--reuid=${spec.drop.uid}`,
          `--regid=${spec.drop.gid}`,
          "--clear-groups",
          "--inh-caps=-all",
          "--bounding-set=-all",
          "--no-new-privs",
          "--",
        ]
      : [];
  const { processes, memoryBytes } = spec.limits;
  const limits = [
    "/usr/bin/prlimit",
    `--nproc=${processes}:${processes}`,
    `--data=${memoryBytes}:${memoryBytes}`,
    "--core=0:0",
    "--",
  ];

  return [
    ...isolation,
    ...user,
    ...dirArgs,
    ...systemDirArgs(),
    ...ETC_ENTRIES.flatMap((entry) => ["--ro-bind-try", `/etc/${entry}`, `/etc/${entry}`]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    ...binds.flat(),
    "--chdir",
    SANDBOX_WORKSPACE,
    "--",
    ...drop,
    ...limits,
    ...spec.command,
  ];
}
