import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { readConfig } from "./config.ts";
import { type DaemonConfig, joinRequestSchema, joinResponseSchema, nodeLabelsSchema, WEB_ROUTES } from "./contract.ts";
import { log } from "./log.ts";
import { VERSION } from "./version.ts";
import { webEndpoint } from "./web-client.ts";

export const JOIN_USAGE = `usage: sam daemon --join <url> --token <token> [--dir D] [--name N] [--capacity N] [--labels a,b]
       sam daemon --join <url> --token-file <file> [...]
       sam daemon --dir D   (a node that joined before: D/node.json holds its credential)

  --join <url>      the web app's URL, as this machine reaches it
  --token <token>   the one-use join token (\`sam node token\` on the web app's machine)
  --token-file <f>  reads the token from a file instead, out of sight of \`ps\`; deleted once spent
  --dir <dir>       where the node keeps its credential, workspaces and outbox (default ~/.sam-node)
  --name <name>     the node's name on the Nodes page (default joined-<id>)
  --capacity <n>    how many tasks it runs at once, 1-64 (default 4)
  --labels a,b      labels it asks for, besides the token's
Set SAM_SANDBOX=off only on a machine that cannot run bubblewrap: agents then run unconfined.`;

const FLAGS = ["--join", "--token", "--token-file", "--dir", "--name", "--capacity", "--labels"] as const;
type Flag = (typeof FLAGS)[number];

/** Whether the command line asks for a joined node (rather than a daemon a local web app starts). */
export function isJoinCommand(argv: readonly string[]): boolean {
  return argv.some((arg) => /^--(join|dir)(=|$)/.test(arg));
}

const capacityMessage = "must be a whole number from 1 to 64";
const joinArgsSchema = z.object({
  "--join": z.url({ protocol: /^https?$/, message: "must be the web app's http(s) URL" }).optional(),
  "--token": joinRequestSchema.shape.token.optional(),
  "--token-file": z.string().min(1, { message: "must be a file" }).optional(),
  "--dir": z.string().min(1, { message: "must be a directory" }).default(path.join(os.homedir(), ".sam-node")),
  "--name": joinRequestSchema.shape.name,
  "--capacity": z.coerce
    .number({ message: capacityMessage })
    .int({ message: capacityMessage })
    .min(1, { message: capacityMessage })
    .max(64, { message: capacityMessage })
    .optional(),
  "--labels": z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .pipe(nodeLabelsSchema)
    .optional(),
});

/** What a joined node keeps in its directory (0600): who it is and where its web app is. */
const nodeFileSchema = z.object({
  nodeId: z.string().min(1),
  credential: z.string().min(32),
  webUrl: z.url({ protocol: /^https?$/ }),
  name: z.string().optional(),
  capacity: z.number().int().min(1).max(64).optional(),
  heartbeatMs: z.number().int().min(100).optional(),
});
export type NodeFile = z.infer<typeof nodeFileSchema>;

export const NODE_FILE = "node.json";

/** A failure is a `usage` error (the command line is wrong: exit 2) or not (the join failed: exit 1). */
type Result<T> = { ok: true; value: T } | { ok: false; errors: string[]; usage?: boolean };

function parseFlags(argv: readonly string[]): Result<z.output<typeof joinArgsSchema>> {
  const values: Partial<Record<Flag, string>> = {};
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const eq = arg.indexOf("=");
    const flag = (eq > 0 ? arg.slice(0, eq) : arg) as Flag;
    if (!FLAGS.includes(flag)) {
      errors.push(`unknown argument ${JSON.stringify(flag)} (a joined node takes ${FLAGS.join(", ")})`);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) errors.push(`${flag} needs a value`);
    else values[flag] = value;
  }
  if (errors.length > 0) return { ok: false, errors, usage: true };
  const parsed = joinArgsSchema.safeParse(values);
  if (!parsed.success) {
    return {
      ok: false,
      usage: true,
      errors: parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`),
    };
  }
  return { ok: true, value: parsed.data };
}

/** The join token, from `--token` or the file `--token-file` names (one of them), if given. */
function joinToken(args: z.output<typeof joinArgsSchema>): Result<string | undefined> {
  const file = args["--token-file"];
  if (file === undefined) return { ok: true, value: args["--token"] };
  if (args["--token"] !== undefined) {
    return { ok: false, usage: true, errors: ["give --token or --token-file, not both"] };
  }
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    return { ok: false, usage: true, errors: [`--token-file: cannot read ${file}: ${(err as Error).message}`] };
  }
  const parsed = joinRequestSchema.shape.token.safeParse(text.trim());
  if (!parsed.success) {
    return {
      ok: false,
      usage: true,
      errors: [`--token-file: ${file} holds no join token (${parsed.error.issues[0]?.message})`],
    };
  }
  return { ok: true, value: parsed.data };
}

/** Writes the node's file readable by its owner only; a reader never sees half of it. */
function writeNodeFile(file: string, node: NodeFile): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(node, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}

function readNodeFile(file: string): Result<NodeFile | undefined> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, value: undefined };
    return { ok: false, errors: [`cannot read ${file}: ${(err as Error).message}`] };
  }
  try {
    return { ok: true, value: nodeFileSchema.parse(JSON.parse(text)) };
  } catch {
    return { ok: false, errors: [`${file} is not a node's file; remove it and join again with a new token`] };
  }
}

/** Spends the join token at the web app; the node's identity, or why not. */
async function join(
  webUrl: string,
  request: z.input<typeof joinRequestSchema>,
): Promise<Result<z.output<typeof joinResponseSchema>>> {
  const endpoint = webEndpoint(webUrl, WEB_ROUTES.join);
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    return { ok: false, errors: [`cannot reach the web app at ${webUrl}: ${cause}`] };
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message = (json as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${res.status}`;
    return { ok: false, errors: [`the web app refused to join this node: ${message}`] };
  }
  const parsed = joinResponseSchema.safeParse(json);
  if (!parsed.success) return { ok: false, errors: [`${endpoint} did not answer as a SAM web app`] };
  return { ok: true, value: parsed.data };
}

export interface JoinedNode {
  config: DaemonConfig;
  /** The node's file: moved aside when the web app refuses its credential, so a new token can join. */
  nodeFile: string;
}

/**
 * A joined node's settings: from its directory's node.json when it joined before (a restart;
 * `--join` may give the web app's new address), or by spending `--token` at `--join` first. Its
 * API listens on 127.0.0.1 only, at a port of its own choosing: the web app never calls it.
 */
export async function joinedNodeConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Result<JoinedNode>> {
  const flags = parseFlags(argv);
  if (!flags.ok) return flags;
  const args = flags.value;
  const dir = path.resolve(args["--dir"]);
  const nodeFile = path.join(dir, NODE_FILE);
  const existing = readNodeFile(nodeFile);
  if (!existing.ok) return existing;
  let node = existing.value;
  if (node) {
    if (args["--token"] || args["--token-file"])
      log(`${nodeFile} exists: this node joined before as ${node.name ?? node.nodeId}; its join token is not used`);
    const webUrl = args["--join"] ?? node.webUrl;
    const capacity = args["--capacity"] ?? node.capacity;
    if (webUrl !== node.webUrl || capacity !== node.capacity) {
      node = { ...node, webUrl, capacity };
      writeNodeFile(nodeFile, node);
    }
  } else {
    const token = joinToken(args);
    if (!token.ok) return token;
    const missing = [
      ...(args["--join"] ? [] : ["--join <url> is required (no node.json in the directory yet)"]),
      ...(token.value
        ? []
        : ["--token <token> or --token-file <file> is required (no node.json in the directory yet)"]),
    ];
    if (missing.length > 0 || !args["--join"] || !token.value) return { ok: false, errors: missing, usage: true };
    const capacity = args["--capacity"] ?? 4;
    const joined = await join(args["--join"], {
      token: token.value,
      ...(args["--name"] ? { name: args["--name"] } : {}),
      capacity,
      labels: args["--labels"] ?? [],
      version: VERSION,
    });
    if (!joined.ok) return joined;
    node = {
      nodeId: joined.value.nodeId,
      credential: joined.value.credential,
      webUrl: args["--join"],
      name: joined.value.name,
      capacity,
      heartbeatMs: joined.value.heartbeatMs,
    };
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeNodeFile(nodeFile, node);
    // Spent: nothing is left to read in it, and no one should wonder.
    if (args["--token-file"]) fs.rmSync(args["--token-file"], { force: true });
    log(`joined as node ${node.name} (${node.nodeId}); its credential is in ${nodeFile}`);
  }
  const config = readConfig([], {
    ...env,
    SAM_NODE_ID: node.nodeId,
    SAM_NODE_TOKEN: node.credential,
    SAM_NODE_TOKEN_FILE: "",
    SAM_DAEMON_HOST: "127.0.0.1",
    SAM_DAEMON_PORT: "0",
    SAM_NODE_CAPACITY: String(node.capacity ?? 4),
    SAM_DAEMON_DATA_DIR: dir,
    SAM_WEB_URL: node.webUrl,
    SAM_HEARTBEAT_MS: env.SAM_HEARTBEAT_MS || String(node.heartbeatMs ?? 10_000),
    // Nobody started it: it lives on its own.
    SAM_ORPHAN_EXIT_MS: "",
  });
  if (!config.ok) return { ...config, usage: true };
  return { ok: true, value: { config: config.config, nodeFile } };
}

/** Sets the node's file aside after the web app refused its credential: the next run can join anew. */
export function retireNodeFile(nodeFile: string): void {
  try {
    fs.renameSync(nodeFile, `${nodeFile}.revoked-${Date.now()}`);
  } catch {
    // Already moved.
  }
}
