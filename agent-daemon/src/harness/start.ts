/** The one entry point the daemon's session manager uses to run a harness. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SANDBOX_RUN_DIR, SANDBOX_WORKSPACE } from "../sandbox/bwrap-args.ts";
import { type McpBridge, startMcpBridge } from "../sandbox/mcp-bridge.ts";
import type { Sandbox, SandboxDirs } from "../sandbox/sandbox.ts";
import { connectHarness, type HarnessTransport } from "./acp-client.ts";
import { startInProcessAgent } from "./in-process.ts";
import { safeEnv } from "./safe-env.ts";
import { HARNESS_BIN, spawnHarnessProcess } from "./subprocess.ts";
import type { HarnessOptions, HarnessSession } from "./types.ts";

const INIT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/sam-sandbox-init.mjs");
// Inside a sandbox without network, the MCP endpoint is reached on its own loopback at this port.
const BRIDGE_PORT = 7077;

type Network = "open" | "none";

export interface HarnessDeps {
  sandbox: Sandbox;
  /** The built-in agent bundled into one file (see bundle.ts), if it could be built. */
  bundle?: string;
  /** The sandbox directories of a workspace on this node. */
  dirsFor: (workspaceId: string) => SandboxDirs | undefined;
}

/** A sandboxed harness process, started before its session so the session does not wait for it. */
interface Launched {
  network: Network;
  transport: HarnessTransport;
  bridge?: McpBridge;
}

/**
 * Starts the built-in agent's process inside the sandbox. With network `none` its MCP endpoint is
 * the sandbox's own loopback, bridged to the web app through a socket bound into the sandbox.
 */
async function launch(deps: HarnessDeps, dirs: SandboxDirs, network: Network): Promise<Launched> {
  const { sandbox } = deps;
  const node = sandbox.insidePath(process.execPath);
  const harness = [node, sandbox.insidePath(deps.bundle ?? HARNESS_BIN)];
  const env = { ...safeEnv(), PATH: `${path.dirname(node)}:/usr/local/bin:/usr/bin:/bin` };
  if (network === "open") {
    return { network, transport: spawnHarnessProcess(sandbox.spawn(dirs, network, harness, { env })) };
  }
  // Unix socket paths are limited to about 100 bytes: the bridge's lives in a short private dir.
  const bridgeDir = fs.mkdtempSync(path.join(os.tmpdir(), "sam-bridge-"));
  fs.chmodSync(bridgeDir, 0o755);
  const removeDir = () => fs.rmSync(bridgeDir, { recursive: true, force: true });
  const bridge = await startMcpBridge(path.join(bridgeDir, "mcp.sock"), sandbox.agentOwner).catch((err: unknown) => {
    removeDir();
    throw err;
  });
  const release = async () => {
    await bridge.close();
    removeDir();
  };
  try {
    const forward = `${BRIDGE_PORT}=${SANDBOX_RUN_DIR}/mcp.sock`;
    const command = [node, sandbox.insidePath(INIT_BIN), "--forward", forward, "--", ...harness];
    const child = sandbox.spawn(dirs, network, command, { env, bridgeDir });
    return { network, transport: spawnHarnessProcess(child, release), bridge };
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
 *
 * `prepare` starts a workspace's sandboxed harness while its repository is still being cloned (Node
 * loading the agent takes longer than most clones); its session then takes that process.
 */
export function harnessStarter(deps: HarnessDeps) {
  const { sandbox } = deps;
  const warm = new Map<string, Promise<Launched>>();

  const discard = (workspaceId: string) => {
    const launched = warm.get(workspaceId);
    warm.delete(workspaceId);
    void launched?.then((l) => l.transport.terminate()).catch(() => {});
  };

  return {
    prepare(workspaceId: string, dirs: SandboxDirs, network: Network): void {
      if (!sandbox.enabled || sandbox.report().state !== "on") return;
      const launched = launch(deps, dirs, network);
      // A failed early start is retried, and reported, when the session starts.
      launched.catch(() => warm.delete(workspaceId));
      warm.set(workspaceId, launched);
    },

    discard,

    async start(options: HarnessOptions): Promise<HarnessSession> {
      if (!sandbox.enabled) return startHarness(options);
      const network = options.network ?? "open";
      const workspaceId = options.workspaceId ?? "";
      const early = warm.get(workspaceId);
      warm.delete(workspaceId);
      let launched = early ? await early.catch(() => undefined) : undefined;
      if (launched && launched.network !== network) {
        void launched.transport.terminate();
        launched = undefined;
      }
      if (!launched) {
        const dirs = deps.dirsFor(workspaceId);
        if (!dirs) throw new Error(`no sandbox directories for workspace ${workspaceId}`);
        launched = await launch(deps, dirs, network);
      }
      let mcpUrl = options.mcpUrl;
      if (launched.bridge) {
        launched.bridge.setTarget(options.mcpUrl);
        mcpUrl = new URL(new URL(options.mcpUrl).pathname, `http://127.0.0.1:${BRIDGE_PORT}`).toString();
      }
      return connectHarness(launched.transport, { ...options, mcpUrl, cwd: SANDBOX_WORKSPACE });
    },
  };
}
