/** The one entry point the daemon's session manager uses to run a harness. */
import { connectHarness } from "./acp-client.ts";
import { startInProcessAgent } from "./in-process.ts";
import { spawnHarnessProcess } from "./subprocess.ts";
import type { HarnessOptions, HarnessSession } from "./types.ts";

/**
 * Starts the harness and opens its ACP session; resolves once the session is ready for its first
 * prompt, rejects with the reason if the harness cannot start (unknown model, missing API key, a
 * process that dies on start).
 */
export async function startHarness(options: HarnessOptions): Promise<HarnessSession> {
  const transport = options.kind === "builtin" ? startInProcessAgent() : spawnHarnessProcess();
  return connectHarness(transport, options);
}
