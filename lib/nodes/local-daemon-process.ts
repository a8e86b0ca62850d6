import fs from "node:fs";
import path from "node:path";
import { releaseHold } from "./daemon-hold";

/** How a local node's daemon process is found again: its pid and its directory. */
export interface LocalRef {
  pid: number;
  dir: string;
}

export function localRefOf(providerRef: string | null): LocalRef | undefined {
  if (!providerRef) return undefined;
  try {
    return JSON.parse(providerRef) as LocalRef;
  } catch {
    return undefined;
  }
}

/**
 * Whether the daemon of `ref` still runs on this machine: its directory holds its record with that
 * pid (a daemon removes it when it stops). A node of another web app instance, on another machine,
 * has no such directory here, and the pid there means nothing here.
 */
function runsHere(ref: LocalRef): boolean {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(ref.dir, "daemon.json"), "utf8")) as { pid?: number };
    return info.pid === ref.pid;
  } catch {
    return false;
  }
}

/** Stops a local node's daemon process (its node is being retired or was declared lost). */
export function stopLocalDaemon(nodeId: string, providerRef: string | null): void {
  releaseHold(nodeId);
  const ref = localRefOf(providerRef);
  if (!ref || !runsHere(ref)) return;
  try {
    process.kill(ref.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}
