import path from "node:path";
import { z } from "zod";
import { SamError } from "./errors";
import { GITHUB_LOGIN, parseInput } from "./validation";

// An empty variable (`PORT=` in an env file) means "not set", as it does for every variable below.
const unsetIfEmpty = <S extends z.ZodType>(schema: S) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), schema);

/** An integer variable; every kind of bad value gets one message that says what is expected. */
const intVar = (min: number, max: number, fallback: number, message: string) =>
  unsetIfEmpty(
    z.coerce.number({ message }).int({ message }).min(min, { message }).max(max, { message }).default(fallback),
  );

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** A comma-separated list of GitHub logins, lowercased (GitHub logins are case-insensitive). */
const loginList = optionalString.pipe(
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s !== ""),
    )
    .refine((logins) => logins.every((l) => GITHUB_LOGIN.test(l)), {
      message: "must be GitHub logins separated by commas",
    }),
);

/** Every environment variable SAM reads, validated in one place (the README's table mirrors it). */
const envSchema = z.object({
  HOST: unsetIfEmpty(z.string().trim().default("127.0.0.1")),
  PORT: intVar(0, 65535, 3000, "must be a port number (0-65535)"),
  SAM_DATA_DIR: unsetIfEmpty(z.string().default("./data")),
  SAM_PUBLIC_URL: optionalString.pipe(
    z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" }).optional(),
  ),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^(file:|libsql:|https?:|wss?:)/, "must start with file:, libsql:, http(s): or ws(s):")
      .optional(),
  ),
  DATABASE_AUTH_TOKEN: optionalString,
  AUTH_SECRET: optionalString,
  SAM_SECRET_KEY: optionalString,
  AUTH_GITHUB_ID: optionalString,
  AUTH_GITHUB_SECRET: optionalString,
  // Who may sign in with GitHub besides the people project owners invite.
  AUTH_GITHUB_ALLOWED_USERS: loginList,
  AUTH_GITHUB_ALLOWED_ORGS: loginList,
  // A GitHub Enterprise Server (or a test's stand-in) instead of github.com.
  AUTH_GITHUB_URL: optionalString.pipe(
    z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" }).optional(),
  ),
  SAM_MAX_BODY_BYTES: intVar(1024, 64 * 1024 * 1024, 1024 * 1024, "must be a number of bytes (1024-67108864)"),
  SAM_LOGIN_LINK_TTL_MINUTES: intVar(1, 24 * 60, 15, "must be a whole number of minutes (1-1440)"),
  // Where daemons on this machine reach the web app; `npm start` sets it to the address it listens on.
  SAM_INTERNAL_URL: optionalString.pipe(
    z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" }).optional(),
  ),
  SAM_SCHEDULER: unsetIfEmpty(z.enum(["on", "off"], { message: "must be on or off" }).default("on")),
  SAM_TICK_MS: intVar(100, 600_000, 1000, "must be milliseconds (100-600000)"),
  SAM_NODE_CAPACITY: intVar(1, 64, 4, "must be a whole number (1-64)"),
  SAM_LOCAL_MAX_NODES: intVar(0, 64, 1, "must be a whole number (0-64)"),
  // `0`: this web app starts no daemon on its machine (a serverless host); tasks run on joined or cloud nodes.
  SAM_LOCAL_NODES: unsetIfEmpty(z.enum(["0", "1"], { message: "must be 0 or 1" }).default("1")),
  SAM_HEARTBEAT_MS: intVar(100, 600_000, 10_000, "must be milliseconds (100-600000)"),
  SAM_NODE_TIMEOUT_MS: intVar(500, 3_600_000, 60_000, "must be milliseconds (500-3600000)"),
  // How long a local daemon waits for its web app (or a restarted one) to hold it before it exits once idle.
  SAM_ORPHAN_EXIT_MS: intVar(100, 3_600_000, 20_000, "must be milliseconds (100-3600000)"),
  SAM_WARM_MINUTES: intVar(0, 24 * 60, 30, "must be a whole number of minutes (0-1440)"),
  CRON_SECRET: optionalString,
  // `off` runs agents unconfined on this machine's nodes (every page that shows them says so in red).
  SAM_SANDBOX: unsetIfEmpty(z.enum(["on", "off"], { message: "must be on or off" }).default("on")),
  // Each agent sandbox's limits on this machine's nodes: processes and threads, memory per process.
  SAM_SANDBOX_MAX_PROCESSES: intVar(16, 100_000, 1024, "must be a whole number (16-100000)"),
  SAM_SANDBOX_MAX_MEMORY_MB: intVar(64, 1_048_576, 8192, "must be a whole number of MiB (64-1048576)"),
  SAM_SANDBOX_UID: intVar(1000, 4_294_967_294, 2_000_000_000, "must be a uid (1000-4294967294)"),
});

export type SamConfig = ReturnType<typeof loadConfig>;

/** Parses the environment; a bad value is refused with the variable named, as an operator reads it. */
function parseEnv(env: Record<string, string | undefined>) {
  try {
    return parseInput(envSchema, env);
  } catch (err) {
    const fields = SamError.is(err) ? err.details?.fields : undefined;
    if (!fields) throw err;
    const summary = fields.map((f) => `${f.field} ${f.message}`).join("; ");
    throw new SamError("invalid_input", `Invalid environment: ${summary}`, { fields });
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(env);
  const dataDir = path.resolve(parsed.SAM_DATA_DIR);
  const hostForUrl = parsed.HOST === "0.0.0.0" || parsed.HOST === "::" ? "127.0.0.1" : parsed.HOST;
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    dataDir,
    publicUrl: (parsed.SAM_PUBLIC_URL ?? `http://${hostForUrl}:${parsed.PORT}`).replace(/\/+$/, ""),
    databaseUrl: parsed.DATABASE_URL ?? `file:${path.join(dataDir, "sam.db")}`,
    databaseAuthToken: parsed.DATABASE_AUTH_TOKEN,
    authSecret: parsed.AUTH_SECRET,
    secretKey: parsed.SAM_SECRET_KEY,
    github:
      parsed.AUTH_GITHUB_ID && parsed.AUTH_GITHUB_SECRET
        ? {
            clientId: parsed.AUTH_GITHUB_ID,
            clientSecret: parsed.AUTH_GITHUB_SECRET,
            // undefined: github.com
            enterpriseUrl: parsed.AUTH_GITHUB_URL?.replace(/\/+$/, ""),
            allowedUsers: parsed.AUTH_GITHUB_ALLOWED_USERS,
            allowedOrgs: parsed.AUTH_GITHUB_ALLOWED_ORGS,
          }
        : undefined,
    maxBodyBytes: parsed.SAM_MAX_BODY_BYTES,
    loginLinkTtlMs: parsed.SAM_LOGIN_LINK_TTL_MINUTES * 60_000,
    internalUrl: parsed.SAM_INTERNAL_URL?.replace(/\/+$/, ""),
    scheduler: {
      enabled: parsed.SAM_SCHEDULER === "on",
      tickMs: parsed.SAM_TICK_MS,
      nodeCapacity: parsed.SAM_NODE_CAPACITY,
      localMaxNodes: parsed.SAM_LOCAL_NODES === "0" ? 0 : parsed.SAM_LOCAL_MAX_NODES,
      heartbeatMs: parsed.SAM_HEARTBEAT_MS,
      nodeTimeoutMs: parsed.SAM_NODE_TIMEOUT_MS,
      orphanExitMs: parsed.SAM_ORPHAN_EXIT_MS,
      warmMs: parsed.SAM_WARM_MINUTES * 60_000,
    },
    cronSecret: parsed.CRON_SECRET,
    sandbox: parsed.SAM_SANDBOX,
    sandboxLimits: {
      processes: parsed.SAM_SANDBOX_MAX_PROCESSES,
      memoryMb: parsed.SAM_SANDBOX_MAX_MEMORY_MB,
      uid: parsed.SAM_SANDBOX_UID,
    },
  };
}
