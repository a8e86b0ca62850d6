/** The one entry point the daemon's session manager uses to run a harness. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentInstaller } from "../agents/install.ts";
import {
  type AgentSetup,
  agentModel,
  agentSpec,
  type ExternalAgentKind,
  isExternalAgent,
  MODEL_PROVIDERS,
  type ModelProvider,
} from "../agents/registry.ts";
import { DEFAULT_BASE_URLS, type KeyProxy, startKeyProxy } from "../keys/key-proxy.ts";
import { SANDBOX_HOME, SANDBOX_RUN_DIR, SANDBOX_WORKSPACE } from "../sandbox/bwrap-args.ts";
import { type McpBridge, startMcpBridge } from "../sandbox/mcp-bridge.ts";
import type { Sandbox, SandboxDirs } from "../sandbox/sandbox.ts";
import { connectHarness, type HarnessTransport } from "./acp-client.ts";
import { startInProcessAgent } from "./in-process.ts";
import { safeEnv } from "./safe-env.ts";
import { HARNESS_BIN, spawnHarnessProcess } from "./subprocess.ts";
import type { HarnessOptions, HarnessSession } from "./types.ts";

const INIT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/sam-sandbox-init.mjs");
// Inside a sandbox without network, the MCP endpoint and the model's key endpoint are reached on
// its own loopback at these ports.
const BRIDGE_PORT = 7077;
const MODEL_PORT = 7078;
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

type Network = "open" | "none";

export interface HarnessDeps {
  sandbox: Sandbox;
  /** The built-in agent bundled into one file (see bundle.ts), if it could be built. */
  bundle?: string;
  /** The sandbox directories of a workspace on this node. */
  dirsFor: (workspaceId: string) => SandboxDirs | undefined;
  /** Installs external agents on first use. */
  installer?: AgentInstaller;
}

/** A process to run as a harness: its command and environment as the sandbox sees them. */
interface Program {
  command: string[];
  env: Record<string, string>;
}

/** A sandboxed harness process, started before its session so the session does not wait for it. */
interface Launched {
  network: Network;
  transport: HarnessTransport;
  bridge?: McpBridge;
  /** With network `none`: the socket the key endpoint serves on, forwarded to MODEL_PORT inside. */
  modelSocket?: string;
}

function builtinProgram(deps: HarnessDeps): Program {
  const node = deps.sandbox.insidePath(process.execPath);
  return {
    command: [node, deps.sandbox.insidePath(deps.bundle ?? HARNESS_BIN)],
    env: { ...safeEnv(), PATH: `${path.dirname(node)}:${SYSTEM_PATH}` },
  };
}

/**
 * Starts a harness process inside the sandbox. With network `none` its MCP endpoint and its model's
 * key endpoint are the sandbox's own loopback, bridged out through sockets bound into the sandbox.
 */
async function launch(deps: HarnessDeps, dirs: SandboxDirs, network: Network, program: Program): Promise<Launched> {
  const { sandbox } = deps;
  if (network === "open") {
    const child = sandbox.spawn(dirs, network, program.command, { env: program.env });
    return { network, transport: spawnHarnessProcess(child) };
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
    const node = sandbox.insidePath(process.execPath);
    const command = [
      node,
      sandbox.insidePath(INIT_BIN),
      "--forward",
      `${BRIDGE_PORT}=${SANDBOX_RUN_DIR}/mcp.sock`,
      // Connections are forwarded as they come: the key endpoint's socket appears when the session starts.
      "--forward",
      `${MODEL_PORT}=${SANDBOX_RUN_DIR}/model.sock`,
      "--",
      ...program.command,
    ];
    const child = sandbox.spawn(dirs, network, command, { env: program.env, bridgeDir });
    return {
      network,
      transport: spawnHarnessProcess(child, release),
      bridge,
      modelSocket: path.join(bridgeDir, "model.sock"),
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** The provider of a `provider:model` string, if it is one the key endpoint serves. */
function providerOf(model: string): ModelProvider | undefined {
  const provider = model.slice(0, model.indexOf(":"));
  return (MODEL_PROVIDERS as readonly string[]).includes(provider) ? (provider as ModelProvider) : undefined;
}

/**
 * The session's key endpoint, for any model that has a provider (`scripted` has none). The agent
 * is only ever given its dummy key and base URL.
 */
async function openKeyEndpoint(options: HarnessOptions): Promise<KeyProxy | undefined> {
  const provider = providerOf(options.model);
  if (!provider) return undefined;
  const { model } = options;
  let upstream: string;
  // An OpenAI-compatible server may take no key; the hosted providers never answer without one.
  if (provider === "openai-compatible") {
    if (!options.modelBaseUrl)
      throw new Error(`model ${model} needs a base URL (for example http://127.0.0.1:11434/v1)`);
    upstream = options.modelBaseUrl;
  } else {
    if (!options.modelApiKey)
      throw new Error(`model ${model} needs an API key: store the provider's key as a project secret`);
    upstream = options.modelBaseUrl ?? DEFAULT_BASE_URLS[provider];
  }
  return startKeyProxy({
    provider,
    upstream,
    ...(options.modelApiKey ? { apiKey: options.modelApiKey } : {}),
    ...(options.onModelUnreachable ? { onUnreachable: options.onModelUnreachable } : {}),
  });
}

/** Writes an agent's configuration files into its HOME, owned by the agent's user. */
function writeHomeFiles(home: string, files: AgentSetup["files"], owner?: { uid: number; gid: number }): void {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(home, relative);
    const rel = path.relative(home, file);
    if (rel.startsWith("..") || path.isAbsolute(rel)) throw new Error(`an agent file outside HOME: ${relative}`);
    const created = fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, content, { mode: 0o600 });
    if (owner) {
      // Every directory made on the way, and the file, become the agent's.
      for (let dir = path.dirname(file); created && dir.startsWith(created); dir = path.dirname(dir)) {
        fs.chownSync(dir, owner.uid, owner.gid);
      }
      fs.chownSync(file, owner.uid, owner.gid);
    }
  }
}

/** A harness unconfined (SAM_SANDBOX=off): a plain child process in the workspace. */
function unconfined(program: Program, cwd: string): ChildProcessWithoutNullStreams {
  const [command, ...args] = program.command;
  if (!command) throw new Error("no command to run");
  return spawn(command, args, { cwd, env: program.env, stdio: ["pipe", "pipe", "pipe"] });
}

/**
 * Ends the key endpoint with the session: when it is closed, and when its harness crashed or could
 * not start.
 */
async function withKeyEndpoint(
  keys: KeyProxy | undefined,
  options: HarnessOptions,
  connect: (options: HarnessOptions) => Promise<HarnessSession>,
): Promise<HarnessSession> {
  if (!keys) return connect(options);
  let closed: Promise<void> | undefined;
  const closeKeys = () => {
    closed ??= keys.close();
    return closed;
  };
  try {
    const session = await connect({
      ...options,
      onCrash: (reason) => {
        void closeKeys();
        options.onCrash(reason);
      },
    });
    return {
      prompt: (text) => session.prompt(text),
      cancel: () => session.cancel(),
      close: async () => {
        try {
          await session.close();
        } finally {
          await closeKeys();
        }
      },
    };
  } catch (err) {
    await closeKeys();
    throw err;
  }
}

/**
 * Starts a harness unconfined (in the daemon's process, or as a plain child process) and opens its
 * ACP session; resolves once the session is ready for its first prompt, rejects with the reason if
 * the harness cannot start (unknown model, missing API key, a process that dies on start).
 */
export async function startHarness(options: HarnessOptions): Promise<HarnessSession> {
  const keys = await openKeyEndpoint(options);
  const agentOptions = keys ? { ...options, modelApiKey: keys.dummyKey, modelBaseUrl: keys.baseUrl } : options;
  return withKeyEndpoint(keys, agentOptions, (opts) => {
    const transport: HarnessTransport = opts.kind === "builtin" ? startInProcessAgent() : spawnHarnessProcess();
    return connectHarness(transport, opts);
  });
}

/**
 * The node's harness starter. With the sandbox on, every harness runs in its own sandboxed process
 * (the built-in agent whichever of its kinds was asked for), and a sandbox that cannot start fails
 * the session with the reason; `SAM_SANDBOX=off` runs it unconfined. Every session with a real
 * model reaches it through its own key endpoint.
 *
 * `prepare` starts a workspace's sandboxed built-in agent while its repository is still being
 * cloned (Node loading the agent takes longer than most clones); its session then takes that
 * process. External agents are started by their session: their command, environment and files
 * depend on the session's model.
 */
export function harnessStarter(deps: HarnessDeps) {
  const { sandbox } = deps;
  const warm = new Map<string, Promise<Launched>>();

  const discard = (workspaceId: string) => {
    const launched = warm.get(workspaceId);
    warm.delete(workspaceId);
    void launched?.then((l) => l.transport.terminate()).catch(() => {});
  };

  /** Starts an external ACP agent: installed on first use, pointed at the key endpoint, in the workspace. */
  const startExternal = async (
    kind: ExternalAgentKind,
    options: HarnessOptions,
    keys: KeyProxy | undefined,
  ): Promise<HarnessSession> => {
    const spec = agentSpec(kind);
    if (kind === "acp" && !options.agentCommand) {
      throw new Error("the custom ACP agent needs its command in the project's settings");
    }
    const model = keys ? agentModel(spec, options.model) : undefined;
    if (model && !model.ok) throw new Error(model.reason);
    if (!keys && kind !== "acp") {
      throw new Error(`${spec.title} needs a real model (provider:model), not ${JSON.stringify(options.model)}`);
    }
    const dirs = deps.dirsFor(options.workspaceId ?? "");
    if (!dirs) throw new Error(`no sandbox directories for workspace ${options.workspaceId}`);
    const confined = sandbox.enabled;
    const network = options.network ?? "open";
    const insideNetwork = confined && network === "none";
    const modelBaseUrl = keys
      ? insideNetwork
        ? keys.baseUrlAt(`http://127.0.0.1:${MODEL_PORT}`)
        : keys.baseUrl
      : undefined;
    const setup: AgentSetup =
      keys && model?.ok && modelBaseUrl
        ? spec.setup({ provider: model.provider, modelId: model.modelId, baseUrl: modelBaseUrl, apiKey: keys.dummyKey })
        : { env: {}, files: {} };
    let command: string[];
    let binDir: string | undefined;
    if (spec.package) {
      if (!deps.installer) throw new Error(`${spec.title} cannot be installed on this node`);
      const installed = await deps.installer.ensure(spec);
      // The session ended during the install: nothing is started for it.
      options.signal?.throwIfAborted();
      const node = confined ? sandbox.insidePath(installed.node) : installed.node;
      command = [node, confined ? sandbox.insidePath(installed.entry) : installed.entry, ...spec.args];
      binDir = path.dirname(node);
    } else {
      command = ["/bin/sh", "-c", options.agentCommand ?? ""];
    }
    writeHomeFiles(dirs.home, setup.files, sandbox.agentOwner);
    const env: Record<string, string> = {
      ...safeEnv(),
      ...setup.env,
      // The agent's own Node.js comes first, for the processes it starts with `node`.
      PATH: binDir ? `${binDir}:${SYSTEM_PATH}` : (safeEnv().PATH ?? SYSTEM_PATH),
      HOME: confined ? SANDBOX_HOME : dirs.home,
    };
    const program = { command, env };
    const agentOptions: HarnessOptions = {
      ...options,
      ...(setup.authMethod ? { authMethod: setup.authMethod } : {}),
      ...(keys && modelBaseUrl ? { modelApiKey: keys.dummyKey, modelBaseUrl } : {}),
    };
    if (!confined) {
      return connectHarness(spawnHarnessProcess(unconfined(program, options.cwd)), agentOptions);
    }
    const launched = await launch(deps, dirs, network, program);
    if (keys && launched.modelSocket) await keys.listenOnSocket(launched.modelSocket, sandbox.agentOwner);
    return connectHarness(launched.transport, {
      ...agentOptions,
      mcpUrl: bridgedMcpUrl(launched, options.mcpUrl),
      cwd: SANDBOX_WORKSPACE,
    });
  };

  const bridgedMcpUrl = (launched: Launched, mcpUrl: string) => {
    if (!launched.bridge) return mcpUrl;
    launched.bridge.setTarget(mcpUrl);
    return new URL(new URL(mcpUrl).pathname, `http://127.0.0.1:${BRIDGE_PORT}`).toString();
  };

  /** Starts the built-in agent in its sandboxed process (the one prepared early, if any). */
  const startBuiltin = async (options: HarnessOptions, keys: KeyProxy | undefined): Promise<HarnessSession> => {
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
      launched = await launch(deps, dirs, network, builtinProgram(deps));
    }
    let modelKeys = {};
    if (keys) {
      if (launched.modelSocket) await keys.listenOnSocket(launched.modelSocket, sandbox.agentOwner);
      const baseUrl = launched.modelSocket ? keys.baseUrlAt(`http://127.0.0.1:${MODEL_PORT}`) : keys.baseUrl;
      modelKeys = { modelApiKey: keys.dummyKey, modelBaseUrl: baseUrl };
    }
    return connectHarness(launched.transport, {
      ...options,
      ...modelKeys,
      mcpUrl: bridgedMcpUrl(launched, options.mcpUrl),
      cwd: SANDBOX_WORKSPACE,
    });
  };

  return {
    prepare(workspaceId: string, dirs: SandboxDirs, network: Network): void {
      if (!sandbox.enabled || sandbox.report().state !== "on") return;
      const launched = launch(deps, dirs, network, builtinProgram(deps));
      // A failed early start is retried, and reported, when the session starts.
      launched.catch(() => warm.delete(workspaceId));
      warm.set(workspaceId, launched);
    },

    discard,

    async start(options: HarnessOptions): Promise<HarnessSession> {
      const kind = options.kind;
      if (isExternalAgent(kind)) {
        // The early built-in process is of no use to another agent.
        if (options.workspaceId) discard(options.workspaceId);
        const keys = await openKeyEndpoint(options);
        return withKeyEndpoint(keys, options, (opts) => startExternal(kind, opts, keys));
      }
      if (!sandbox.enabled) return startHarness(options);
      const keys = await openKeyEndpoint(options);
      return withKeyEndpoint(keys, options, (opts) => startBuiltin(opts, keys));
    },
  };
}
