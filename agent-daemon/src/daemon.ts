import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { AgentInstaller } from "./agents/install.ts";
import { ChannelClient } from "./channel-client.ts";
import { CommandLog } from "./command-log.ts";
import type { DaemonConfig } from "./contract.ts";
import type { HarnessDeps } from "./harness/start.ts";
import { Heartbeat } from "./heartbeat.ts";
import { log } from "./log.ts";
import { Mirrors } from "./mirrors.ts";
import { Outbox } from "./outbox.ts";
import { Ownership } from "./ownership.ts";
import { Sandbox } from "./sandbox/sandbox.ts";
import { createApiServer } from "./server.ts";
import type { StartHarness } from "./session.ts";
import { Sessions } from "./sessions.ts";
import { Shipper } from "./shipper.ts";
import { VERSION } from "./version.ts";
import { type WorkspaceHooks, Workspaces } from "./workspaces.ts";

const DAY_MS = 24 * 60 * 60_000;
const PRUNE_INTERVAL_MS = 60 * 60_000;
// On shutdown: how long running sessions get to save their work, then the outbox to drain.
const SHUTDOWN_SESSIONS_MS = 5_000;
const SHUTDOWN_FLUSH_MS = 2_000;

/**
 * The harness brings in the AI SDK, MCP and ACP: about half a second of loading. It loads in the
 * background, so the API answers without waiting and a session starting later finds it ready.
 */
function loadHarness(deps: Omit<HarnessDeps, "bundle">, bundleDir: string) {
  const loading = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => Promise.all([import("./harness/start.ts"), import("./harness/bundle.ts")]))
    .then(async ([start, { bundleHarness }]) => {
      const bundle = deps.sandbox.enabled ? await bundleHarness(bundleDir, log) : undefined;
      return start.harnessStarter({ ...deps, bundle });
    });
  // A failed load fails each session that needs it, with the reason; it is not a crash of the daemon.
  loading.catch(() => {});
  const start: StartHarness = async (options) => (await loading).start(options);
  const hooks: WorkspaceHooks = {
    cloning: (id, dirs, network) =>
      void loading.then(
        (harness) => harness.prepare(id, dirs, network),
        () => {},
      ),
    removed: (id) =>
      void loading.then(
        (harness) => harness.discard(id),
        () => {},
      ),
  };
  // The bundle is written by esbuild's own process: a daemon that exits waits for it, so nothing
  // writes into its directory after it is gone.
  const settled = loading.then(
    () => {},
    () => {},
  );
  return { start, hooks, settled };
}

/** A node whose web app is gone this long, with nothing running, stops instead of lingering. */
const ORPHAN_AFTER_MS = 15 * 60_000;

export interface RunningDaemon {
  url: string;
  /** Stops taking requests, ends running sessions (saving their work), flushes the outbox briefly. */
  close: () => Promise<void>;
}

/**
 * Runs a complete agent daemon in this process: the HTTP API, workspaces, sessions, the outbox with
 * its shipper, and the heartbeat. `bin/sam-daemon.mjs` runs it as its own process; tests and tools
 * may run it in-process.
 */
export async function startDaemon(
  config: DaemonConfig,
  hooks: {
    onRetire?: (reason: string) => void;
    /**
     * A node joined to its web app (`sam daemon --join`): the web app never calls it, it holds a
     * command channel open instead; it never retires for want of a web app; `onRevoked` runs once
     * if the web app refuses its credential.
     */
    joined?: { onRevoked: (reason: string) => void };
  } = {},
): Promise<RunningDaemon> {
  // Its token, outbox, mirrors and logs are the daemon's alone.
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(config.dataDir, 0o700);
  // The built-in agent's bundle: the one folder of the daemon's that sandboxes see (read-only).
  const bundleDir = path.join(config.dataDir, "harness");
  fs.mkdirSync(bundleDir, { recursive: true, mode: 0o755 });
  // External agents installed on first use: the other folder of the daemon's that sandboxes see.
  const installer = new AgentInstaller(path.join(fs.realpathSync(config.dataDir), "agents"));
  const sandbox = new Sandbox({
    mode: config.sandbox,
    limits: { processes: config.sandboxMaxProcesses, memoryBytes: config.sandboxMaxMemoryMb * 1024 * 1024 },
    agentId: config.sandboxUid,
    readOnly: [
      { source: bundleDir, dest: "/opt/sam-harness" },
      { source: installer.root, dest: "/opt/sam-agents" },
    ],
  });
  sandbox.assertHidden(config.dataDir);
  await sandbox.probe(config.dataDir);
  if (sandbox.report().state === "unavailable")
    log(`sandbox unavailable, sessions are refused: ${sandbox.report().error}`);
  const outbox = new Outbox(path.join(config.dataDir, "outbox.db"));
  outbox.prune(DAY_MS);
  const harness = loadHarness({ sandbox, installer, dirsFor: (id) => workspaces.sandboxDirs(id) }, bundleDir);
  const workspaces = new Workspaces(
    path.join(config.dataDir, "workspaces"),
    new Mirrors(path.join(config.dataDir, "mirrors")),
    config.capacity,
    sandbox,
    harness.hooks,
  );
  await workspaces.load();
  const startHarness = harness.start;
  let shipper: Shipper | undefined;
  let heartbeat: Heartbeat | undefined;
  let channel: ChannelClient | undefined;
  let commands: CommandLog | undefined;
  const ownership = new Ownership({
    orphanExitMs: config.orphanExitMs,
    busy: () => sessions.busy(),
    undelivered: () => outbox.pendingCount(),
    deliveryWaitMs: ORPHAN_AFTER_MS,
    onRetire: (reason) => hooks.onRetire?.(reason),
    onWebUrl: (webUrl) => {
      shipper?.setWebUrl(webUrl);
      heartbeat?.setWebUrl(webUrl);
    },
  });
  const sessions = new Sessions({ outbox, workspaces, startHarness, onChange: () => ownership.check() });
  workspaces.countParkedBy((id) => sessions.parkedIn(id));
  const server = createApiServer({ config, workspaces, sessions, outbox, ownership, sandbox });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (err) {
    outbox.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  if (config.webUrl) {
    shipper = new Shipper({ outbox, webUrl: config.webUrl, nodeId: config.nodeId, nodeToken: config.nodeToken });
    // Events a previous run could not deliver go out first.
    shipper.kick();
    heartbeat = new Heartbeat({
      webUrl: config.webUrl,
      nodeToken: config.nodeToken,
      intervalMs: config.heartbeatMs,
      report: () => ({
        nodeId: config.nodeId,
        url,
        capacity: config.capacity,
        workspaces: workspaces.count(),
        sessions: sessions.report(),
        sandbox: sandbox.report(),
        version: VERSION,
      }),
      // A joined node hears the refusal of its credential from its heartbeat as from its channel.
      onRetire: (reason) => (hooks.joined ? hooks.joined.onRevoked(reason) : hooks.onRetire?.(reason)),
      // A joined node waits for its web app however long it is away.
      orphanAfterMs: hooks.joined ? Number.POSITIVE_INFINITY : ORPHAN_AFTER_MS,
      busy: () => sessions.busy(),
    });
    heartbeat.start();
    if (hooks.joined) {
      const { onRevoked } = hooks.joined;
      commands = new CommandLog(path.join(config.dataDir, "commands.db"));
      commands.prune(DAY_MS);
      channel = new ChannelClient({
        webUrl: config.webUrl,
        credential: config.nodeToken,
        hello: { nodeId: config.nodeId, version: VERSION, capacity: config.capacity },
        apiUrl: url,
        commands,
        onRevoked,
      });
      channel.start();
    }
  }
  const pruner = setInterval(() => outbox.prune(DAY_MS), PRUNE_INTERVAL_MS).unref();

  let closing: Promise<void> | undefined;
  const close = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    heartbeat?.stop();
    channel?.stop();
    ownership.stop();
    await sessions.stopAll("the node daemon shut down", SHUTDOWN_SESSIONS_MS);
    await harness.settled;
    if (shipper) {
      await shipper.flush(SHUTDOWN_FLUSH_MS);
      shipper.stop();
    }
    clearInterval(pruner);
    server.closeAllConnections();
    await closed;
    outbox.close();
    commands?.close();
  };
  return {
    url,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
