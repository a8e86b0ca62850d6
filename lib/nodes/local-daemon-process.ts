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

/** Stops a local node's daemon process (its node is being retired or was declared lost). */
export function stopLocalDaemon(nodeId: string, providerRef: string | null): void {
  releaseHold(nodeId);
  const ref = localRefOf(providerRef);
  if (!ref) return;
  try {
    process.kill(ref.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}
