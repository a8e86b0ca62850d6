import fs from "node:fs";
import { type DaemonConfig, daemonConfigSchema } from "./contract.ts";

/** Each setting, with the environment variable and the flag that can give it; a flag wins. */
const SETTINGS = {
  nodeId: { env: "SAM_NODE_ID", flag: "--node-id" },
  nodeToken: { env: "SAM_NODE_TOKEN", flag: "--token" },
  host: { env: "SAM_DAEMON_HOST", flag: "--host" },
  port: { env: "SAM_DAEMON_PORT", flag: "--port" },
  capacity: { env: "SAM_NODE_CAPACITY", flag: "--capacity" },
  dataDir: { env: "SAM_DAEMON_DATA_DIR", flag: "--data-dir" },
  webUrl: { env: "SAM_WEB_URL", flag: "--web-url" },
  heartbeatMs: { env: "SAM_HEARTBEAT_MS", flag: "--heartbeat-ms" },
  nodeTokenFile: { env: "SAM_NODE_TOKEN_FILE", flag: "--token-file" },
  sandbox: { env: "SAM_SANDBOX", flag: "--sandbox" },
  orphanExitMs: { env: "SAM_ORPHAN_EXIT_MS", flag: "--orphan-exit-ms" },
  sandboxMaxProcesses: { env: "SAM_SANDBOX_MAX_PROCESSES", flag: "--sandbox-max-processes" },
  sandboxMaxMemoryMb: { env: "SAM_SANDBOX_MAX_MEMORY_MB", flag: "--sandbox-max-memory-mb" },
  sandboxUid: { env: "SAM_SANDBOX_UID", flag: "--sandbox-uid" },
} as const;

type Setting = keyof typeof SETTINGS;

const flagLines = Object.values(SETTINGS).map(({ env, flag }) => `  ${`${flag} <value>`.padEnd(24)}(or ${env})`);
export const USAGE = ["usage: sam-daemon [flags]", ...flagLines].join("\n");

type ConfigResult = { ok: true; config: DaemonConfig } | { ok: false; errors: string[] };

/**
 * The daemon's settings from its flags (`--port 0` or `--port=0`) and environment. Every problem is
 * reported, each naming the flag or variable it came from, so a supervisor's log says what to fix.
 */
export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ConfigResult {
  const fromFlags = new Map<Setting, string>();
  const errors: string[] = [];
  const byFlag = new Map<string, Setting>(Object.entries(SETTINGS).map(([key, { flag }]) => [flag, key as Setting]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = byFlag.get(flag);
    if (!key) {
      errors.push(`unknown argument ${JSON.stringify(flag)}`);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) errors.push(`${flag} needs a value`);
    else fromFlags.set(key, value);
  }
  if (errors.length > 0) return { ok: false, errors };

  const input: Partial<Record<Setting, string>> = {};
  for (const key of Object.keys(SETTINGS) as Setting[]) {
    // An empty variable means unset, so a supervisor can blank out an inherited one.
    input[key] = fromFlags.get(key) ?? (env[SETTINGS[key].env] || undefined);
  }
  const sourceOf = (key: Setting) => (fromFlags.has(key) ? SETTINGS[key].flag : SETTINGS[key].env);
  if (input.nodeToken === undefined && input.nodeTokenFile !== undefined) {
    // A token in a file, removed once read, never shows in the process's environment, which an
    // agent's shell could otherwise read from /proc.
    try {
      input.nodeToken = fs.readFileSync(input.nodeTokenFile, "utf8").trim();
      fs.rmSync(input.nodeTokenFile, { force: true });
    } catch (err) {
      return {
        ok: false,
        errors: [`${sourceOf("nodeTokenFile")}: cannot read ${input.nodeTokenFile}: ${(err as Error).message}`],
      };
    }
  }
  delete input.nodeTokenFile;
  const parsed = daemonConfigSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => {
        const key = issue.path[0] as Setting | undefined;
        return `${key ? sourceOf(key) : "config"}: ${issue.message}`;
      }),
    };
  }
  // The schema takes any URL; events and heartbeats go over HTTP only.
  const { webUrl } = parsed.data;
  if (webUrl && !/^https?:$/.test(new URL(webUrl).protocol)) {
    return { ok: false, errors: [`${sourceOf("webUrl")}: must be an http(s) URL`] };
  }
  return { ok: true, config: parsed.data };
}
