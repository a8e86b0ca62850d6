/** The one entry point the daemon's session manager uses to run a harness. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SANDBOX_RUN_DIR, SANDBOX_WORKSPACE } from "../sandbox/bwrap-args.ts";
import { startMcpBridge } from "../sandbox/mcp-bridge.ts";
import type { Sandbox, SandboxDirs } from "../sandbox/sandbox.ts";
import { connectHarness, type HarnessTransport } from "./acp-client.ts";
import { startInProcessAgent } from "./in-process.ts";
import { safeEnv } from "./safe-env.ts";
import { HARNESS_BIN, spawnHarnessProcess } from "./subprocess.ts";
import type { HarnessOptions, HarnessSession } from "./types.ts";

const INIT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/sam-sandbox-init.mjs");
// Inside a sandbox without network, the MCP endpoint is reached on its own loopback at this port.
const BRIDGE_PORT = 7077;

export interface HarnessDeps {
  sandbox: Sandbox;
  /** The sandbox directories of a workspace on this node. */
  dirsFor: (workspaceId: string) => SandboxDirs | undefined;
}

/**
 * Starts the built-in agent inside the sandbox. With network `none` its MCP endpoint is the
 * sandbox's own loopback, bridged to the web app through a socket in the sandbox's run dir.
 */
async function sandboxedTransport(deps: HarnessDeps, options: HarnessOptions) {
  const dirs = options.workspaceId ? deps.dirsFor(options.workspaceId) : undefined;
  if (!dirs) throw new Error(`no sandbox directories for workspace ${options.workspaceId}`);
  const network = options.network ?? "open";
  const { sandbox } = deps;
  const node = sandbox.insidePath(process.execPath);
  const harness = [node, sandbox.insidePath(HARNESS_BIN)];
  const env = { ...safeEnv(), PATH: `${path.dirname(node)}:/usr/local/bin:/usr/bin:/bin` };
  if (network === "open") {
    const child = sandbox.spawn(dirs, network, harness, { env });
    return { transport: spawnHarnessProcess(child), mcpUrl: options.mcpUrl };
  }
  // Unix socket paths are limited to about 100 bytes: the bridge's lives in a short private dir.
  const bridgeDir = fs.mkdtempSync(path.join(os.tmpdir(), "sam-bridge-"));
  fs.chmodSync(bridgeDir, 0o755);
  const removeDir = () => fs.rmSync(bridgeDir, { recursive: true, force: true });
  const bridge = await startMcpBridge(path.join(bridgeDir, "mcp.sock"), options.mcpUrl, sandbox.agentOwner).catch(
    (err: unknown) => {
      removeDir();
      throw err;
    },
  );
  const release = async () => {
    await bridge.close();
    removeDir();
  };
  try {
    const command = [
      node,
      sandbox.insidePath(INIT_BIN),
      "--forward",
      `${BRIDGE_PORT}=${SANDBOX_RUN_DIR}/mcp.sock`,
      "--",
      ...harness,
    ];
    const child = sandbox.spawn(dirs, network, command, { env, bridgeDir });
    const mcpUrl = new URL(new URL(options.mcpUrl).pathname, `http://127.0.0.1:${BRIDGE_PORT}`).toString();
    return { transport: spawnHarnessProcess(child, release), mcpUrl };
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * Starts a harness unconfined (in the daemon's process, or as a plain child process) and opens its
 * ACP session; resolves once the session is ready for its first prompt, rejects with the reason if
 * the harness cannot start (unknown model, missing API key, a process that dies on start).
 */
export async function startHarness(options: HarnessOptions): Promise<HarnessSession> {
  const transport: HarnessTransport = options.kind === "builtin" ? startInProcessAgent() : spawnHarnessProcess();
  return connectHarness(transport, options);
}

/**
 * The node's harness starter. With the sandbox on, the built-in agent always runs in its own
 * sandboxed process, whichever kind was asked for, and a sandbox that cannot start fails the
 * session with the reason; `SAM_SANDBOX=off` runs it unconfined.
 */
export function harnessStarter(deps: HarnessDeps) {
  return async (options: HarnessOptions): Promise<HarnessSession> => {
    if (!deps.sandbox.enabled) return startHarness(options);
    const { transport, mcpUrl } = await sandboxedTransport(deps, options);
    return connectHarness(transport, { ...options, mcpUrl, cwd: SANDBOX_WORKSPACE });
  };
}
