import { execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";

/**
 * A network namespace standing for another machine: its own loopback and one veth link to this
 * machine, where `hostIp` is this machine's side. From inside, only `hostIp` (and its own loopback)
 * can be reached; a server meant for it listens on `hostIp`.
 */
export interface Netns {
  name: string;
  /** This machine's address on the link (listen here to be reachable from the namespace). */
  hostIp: string;
  /** The namespace's address on the link. */
  nsIp: string;
  /** Spawns a command inside the namespace (same filesystem and users, its own network). */
  spawn(command: string, args: string[], opts?: SpawnOptions): ReturnType<typeof spawn>;
  /** Runs a command inside the namespace and returns its stdout; throws on a non-zero exit. It blocks
   * this process: never point it at a server this process serves. */
  run(command: string, args: string[]): string;
  /** Deletes the namespace and its link. Processes still inside are the caller's to stop first. */
  destroy(): void;
}

function ip(args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Whether this machine can make namespaces (root and iproute2): the tests that need them say why not. */
export function netnsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  try {
    ip(["-V"]);
  } catch {
    return "`ip` (iproute2) is not installed";
  }
  return undefined;
}

/** Makes a namespace linked to this machine over a /30 on a random 10.x.y.0 subnet. */
export function createNetns(): Netns {
  for (let attempt = 0; ; attempt++) {
    const tag = randomBytes(3).toString("hex");
    const name = `sam-${tag}`;
    // 10.64.0.0/10: rarely used by anything else on a test machine.
    const subnet = `10.${randomInt(64, 128)}.${randomInt(0, 256)}`;
    const hostIp = `${subnet}.1`;
    const nsIp = `${subnet}.2`;
    const hostIf = `sv${tag}h`;
    const nsIf = `sv${tag}n`;
    if (ip(["-o", "addr"]).includes(` ${subnet}.`)) continue;
    try {
      ip(["netns", "add", name]);
      ip(["link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
      ip(["link", "set", nsIf, "netns", name]);
      ip(["addr", "add", `${hostIp}/30`, "dev", hostIf]);
      ip(["link", "set", hostIf, "up"]);
      ip(["-n", name, "addr", "add", `${nsIp}/30`, "dev", nsIf]);
      ip(["-n", name, "link", "set", nsIf, "up"]);
      ip(["-n", name, "link", "set", "lo", "up"]);
      ip(["-n", name, "route", "add", "default", "via", hostIp]);
    } catch (err) {
      try {
        ip(["netns", "del", name]);
      } catch {}
      try {
        ip(["link", "del", hostIf]);
      } catch {}
      if (attempt >= 3) throw err;
      continue;
    }
    return {
      name,
      hostIp,
      nsIp,
      spawn: (command, args, opts = {}) => spawn("ip", ["netns", "exec", name, command, ...args], opts),
      run: (command, args) =>
        execFileSync("ip", ["netns", "exec", name, command, ...args], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        }),
      destroy: () => {
        try {
          ip(["netns", "del", name]);
        } catch {}
        try {
          ip(["link", "del", hostIf]);
        } catch {}
      },
    };
  }
}
