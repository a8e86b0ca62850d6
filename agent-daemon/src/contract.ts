/**
 * The contract between the web app and the agent daemon: routes and their zod schemas, in both
 * directions. Both sides import this module; neither imports the other.
 *
 * web app → daemon: Authorization: Bearer <node token>
 * daemon → web app: Authorization: Bearer <node token> (the web app keeps only its hash)
 */
import { z } from "zod";

// ---------------------------------------------------------------------------
// Daemon routes (served by the daemon, called by the web app).

export const DAEMON_ROUTES = {
  health: "/health",
  workspaces: "/workspaces",
  workspace: (id: string) => `/workspaces/${encodeURIComponent(id)}`,
  workspaceMerge: (id: string) => `/workspaces/${encodeURIComponent(id)}/merge`,
  sessions: "/sessions",
  session: (id: string) => `/sessions/${encodeURIComponent(id)}`,
  sessionMessages: (id: string) => `/sessions/${encodeURIComponent(id)}/messages`,
  sessionCancel: (id: string) => `/sessions/${encodeURIComponent(id)}/cancel`,
  sessionStop: (id: string) => `/sessions/${encodeURIComponent(id)}/stop`,
  sessionFinish: (id: string) => `/sessions/${encodeURIComponent(id)}/finish`,
  owner: "/owner",
} as const;

export const healthResponseSchema = z.object({
  status: z.literal("ok"),
  nodeId: z.string().min(1),
  version: z.string().min(1),
  workspaces: z.number().int().min(0),
  sessions: z.number().int().min(0),
  capacity: z.number().int().min(1),
  // Events written to the outbox and not yet acknowledged by the web app.
  outboxPending: z.number().int().min(0),
  sandbox: z.object({ state: z.enum(["on", "off", "unavailable"]), error: z.string().optional() }),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const daemonErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type DaemonError = z.infer<typeof daemonErrorSchema>;

const id = z.string().min(1).max(200);

/** A git branch name SAM creates: `sam/<slug>-<short id>`. */
export const samBranchSchema = z
  .string()
  .regex(/^sam\/[a-z0-9][a-z0-9-]{0,60}$/, { message: "must look like sam/<slug>-<short id>" });

// ---------------------------------------------------------------------------
// Repository locations: one rule for the web app (adding a project) and the daemon (cloning it).

const REPO_URL_SCHEMES = new Set(["file:", "https:", "http:", "ssh:"]);
// scp-like syntax, `user@host:path`. The user part is required: a bare `word::...` is git's
// transport-helper syntax (`ext::sh -c ...`), which must never reach git.
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)\S+$/;
const SUPPORTED_REPOS = "an absolute local path, file://, https://, http://, ssh:// or user@host:path";

/** True when the location is meant as a URL (or scp-like address) rather than a path on this machine. */
export function isRepoUrl(repo: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(repo) || SCP_LIKE.test(repo);
}

/** True for a repository on the machine itself (a path or file://), which only an instance admin may add. */
export function isLocalRepo(repo: string): boolean {
  return !isRepoUrl(repo) || /^file:/i.test(repo);
}

export interface RepoLocationProblem {
  /** `scheme`: a URL of a scheme SAM does not use; `form`: anything else that is not a location. */
  kind: "scheme" | "form";
  message: string;
}

/**
 * Why a repository location is refused, or undefined when git may be pointed at it. Only the forms a
 * project can legitimately use are accepted: not `git://` (unauthenticated, and SAM pushes), not
 * other schemes or transport helpers, not relative paths, nothing git would read as an option.
 */
export function repoLocationProblem(repo: string): RepoLocationProblem | undefined {
  const form = (message: string): RepoLocationProblem => ({ kind: "form", message });
  if (repo !== repo.trim() || /[\0\n\r]/.test(repo)) {
    return form("must not contain surrounding whitespace or control characters");
  }
  if (repo.startsWith("/") || SCP_LIKE.test(repo)) return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(repo)?.[1];
  if (!scheme || !repo.startsWith(`${scheme}://`)) {
    return form(`not a supported repository location (use ${SUPPORTED_REPOS})`);
  }
  if (!REPO_URL_SCHEMES.has(`${scheme.toLowerCase()}:`)) {
    return { kind: "scheme", message: `unsupported scheme ${scheme}:// (use ${SUPPORTED_REPOS})` };
  }
  if (!URL.canParse(repo) || /\s/.test(repo)) return form(`malformed URL (use ${SUPPORTED_REPOS})`);
  const url = new URL(repo);
  if (url.protocol !== "file:" && (!url.hostname || url.pathname.replace(/\/+$/, "") === "")) {
    return form("the URL needs a host and a repository path");
  }
  return undefined;
}

/**
 * A branch to merge into a new workspace (a dependency's, or the base branch a revision brings into
 * its pull request's branch), with its task's title to name it in a conflict. `leaveConflicts`: a
 * conflict does not refuse the workspace; the merge stays in progress, the conflicts in the files,
 * for the task's agent to resolve (its save then records the merge commit).
 */
const mergeBranchSchema = z.object({
  taskId: id,
  title: z.string().min(1).max(500),
  branch: z.string().min(1).max(250),
  leaveConflicts: z.boolean().default(false),
});
export type MergeBranch = z.input<typeof mergeBranchSchema>;

export const createWorkspaceRequestSchema = z.object({
  workspaceId: id,
  taskId: id,
  // A local path or a git URL (https, ssh, scp-like, file). Other schemes are refused.
  // (`repoLocationProblem` judges it; the daemon refuses with `unsupported_repo`.)
  repo: z.string().min(1).max(2000),
  baseBranch: z.string().min(1).max(250),
  branch: samBranchSchema,
  // The sandbox network of the session to come: its agent starts while the repository is cloned.
  network: z.enum(["open", "none"]).default("open"),
  // The branches of the tasks this one depends on, merged into its branch in this order. A branch
  // missing from the repository (its task changed nothing) is skipped; a conflict refuses the request,
  // unless it is the last branch's and that one leaves its conflicts.
  mergeBranches: z
    .array(mergeBranchSchema)
    .max(50)
    .default([])
    .refine((branches) => branches.slice(0, -1).every((b) => !b.leaveConflicts), {
      message: "only the last branch may leave its conflicts (no merge can follow one in progress)",
    }),
});
export type CreateWorkspaceRequest = z.input<typeof createWorkspaceRequestSchema>;

export const workspaceResponseSchema = z.object({
  workspaceId: id,
  path: z.string(),
  branch: z.string(),
  baseCommit: z.string(),
});
export type WorkspaceResponse = z.infer<typeof workspaceResponseSchema>;

export const MERGE_STRATEGIES = ["merge", "squash", "rebase"] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/**
 * Brings a subtask's pushed branch into a live workspace (its parent's), as the workspace's agent
 * would: `merge` a merge commit, `squash` one commit of the whole work, `rebase` the branch's own
 * commits replayed on top. A conflict changes nothing and names the paths.
 */
export const mergeIntoWorkspaceRequestSchema = z.object({
  branch: samBranchSchema,
  // The subtask's title, for the commit message.
  title: z.string().min(1).max(500),
  strategy: z.enum(MERGE_STRATEGIES).default("merge"),
});
export type MergeIntoWorkspaceRequest = z.input<typeof mergeIntoWorkspaceRequestSchema>;

export const mergeIntoWorkspaceResponseSchema = z.object({
  // False when the workspace already held the branch's work: nothing was committed.
  merged: z.boolean(),
  // The workspace's HEAD afterwards.
  commit: z.string().regex(/^[0-9a-f]{40,64}$/),
  strategy: z.enum(MERGE_STRATEGIES),
});
export type MergeIntoWorkspaceResponse = z.infer<typeof mergeIntoWorkspaceResponseSchema>;

export const HARNESS_KINDS = [
  "builtin",
  "builtin-subprocess",
  "claude-code",
  "codex",
  "gemini",
  "opencode",
  "qwen-code",
  "acp",
] as const;
export type HarnessKind = (typeof HARNESS_KINDS)[number];

/** The providers a model (`provider:model`) can come from; `scripted` is the offline model. */
export const MODEL_PROVIDERS = ["anthropic", "openai", "openai-compatible", "google"] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/**
 * The models each harness can run: the built-in agent speaks to Anthropic, OpenAI and OpenAI-compatible
 * servers (and `scripted`); each external agent only to the providers it implements. One table for the
 * node, which refuses a session, and the web app, which refuses the setting.
 */
export const HARNESS_MODEL_PROVIDERS = {
  builtin: ["scripted", "anthropic", "openai", "openai-compatible"],
  "builtin-subprocess": ["scripted", "anthropic", "openai", "openai-compatible"],
  "claude-code": ["anthropic"],
  codex: ["openai", "openai-compatible"],
  gemini: ["google"],
  opencode: ["anthropic", "openai", "openai-compatible"],
  "qwen-code": ["openai", "openai-compatible", "anthropic"],
  acp: MODEL_PROVIDERS,
} as const satisfies Record<HarnessKind, readonly ("scripted" | ModelProvider)[]>;

/**
 * How a machine reaches the package registry and model providers (proxies, their certificates, npm's
 * cache and registry): passed from the web app to the local daemons it starts, and from a daemon to
 * the npm that installs agents; nothing else of either environment.
 */
export const NETWORK_SETTINGS_ENV = [
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "npm_config_cache",
  "npm_config_registry",
  "npm_config_cafile",
] as const;

// How an agent's permission requests are answered: `allow` (the default: the sandbox is the
// boundary) picks an allowing option, `deny` a rejecting one. Never left hanging.
export const PERMISSION_POLICIES = ["allow", "deny"] as const;

export const startSessionRequestSchema = z.object({
  sessionId: id,
  taskId: id,
  workspaceId: id,
  mode: z.enum(["task", "conversation"]),
  harness: z.enum(HARNESS_KINDS),
  // `scripted` or `provider:model`.
  model: z.string().min(1).max(250),
  // Provider API key and base URL for the model, if it needs them; never written to disk or env.
  modelApiKey: z.string().max(16_384).optional(),
  modelBaseUrl: z.url().optional(),
  // For harness `acp`: the command that starts the custom ACP agent (run by /bin/sh in the sandbox).
  agentCommand: z.string().min(1).max(2000).optional(),
  permissionPolicy: z.enum(PERMISSION_POLICIES).default("allow"),
  // The task's title: the subject of the commit the daemon makes of leftover changes.
  title: z.string().min(1).max(200).optional(),
  // The first user-role message: the task description.
  prompt: z.string().min(1).max(200_000),
  // What the agent's MCP client uses to reach the web app's tools.
  mcpUrl: z.url(),
  // What the agent's sandbox may reach: anything, or nothing but the MCP endpoint above.
  network: z.enum(["open", "none"]).default("open"),
  taskToken: z.string().min(32).max(200),
  // What a task-mode session does when a turn ends normally with nothing queued: `finish` (save,
  // push, complete) or `wait` idle until the web app finishes it (`POST .../finish`) or sends a
  // message — the web app decides, because only it knows whether the task still has subtasks.
  taskTurnEnd: z.enum(["finish", "wait"]).default("finish"),
  // Git identity for the commits the daemon makes.
  gitAuthorName: z.string().min(1).max(200).default("SAM agent"),
  gitAuthorEmail: z.string().min(3).max(320).default("agent@sam.local"),
});
export type StartSessionRequest = z.input<typeof startSessionRequestSchema>;
export type StartSession = z.output<typeof startSessionRequestSchema>;

// A session's lifecycle; its moves are in session.ts (`SESSION_MOVES`).
export const SESSION_STATES = ["starting", "working", "idle", "stopping", "ending", "finished"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const sessionResponseSchema = z.object({
  sessionId: id,
  taskId: id,
  state: z.enum(SESSION_STATES),
});
export type SessionResponse = z.infer<typeof sessionResponseSchema>;

export const injectMessageRequestSchema = z.object({
  // Idempotency key: a message with an id the session has seen is acknowledged, not delivered twice.
  messageId: id,
  text: z.string().min(1).max(200_000),
  source: z.enum(["user", "parent", "system"]),
});
export type InjectMessageRequest = z.infer<typeof injectMessageRequestSchema>;

export const injectMessageResponseSchema = z.object({
  delivered: z.boolean(),
  // True when the agent was mid-turn: the message is the next prompt, after the current turn.
  queued: z.boolean(),
});

export const stopSessionRequestSchema = z.object({
  warning: z.string().max(10_000).optional(),
  graceMs: z.number().int().min(0).max(30_000),
  reason: z.string().min(1).max(2000),
  // The user ends their conversation: nothing is saved or pushed and the session completes, instead
  // of the stop protocol's save, push and failure.
  end: z.boolean().optional(),
});
export type StopSessionRequest = z.infer<typeof stopSessionRequestSchema>;

/**
 * A web app holds the daemon it started on its machine (or took over after a restart) with this
 * request, left open for as long as it runs; the daemon then ships to `webUrl`. A daemon started with
 * an orphan wait retires once no web app has held it that long and nothing is busy.
 */
export const ownerRequestSchema = z.object({ webUrl: z.url({ protocol: /^https?$/ }) });
export type OwnerRequest = z.infer<typeof ownerRequestSchema>;

// ---------------------------------------------------------------------------
// Web app routes (served by the web app, called by the daemon).

export const WEB_ROUTES = {
  events: "/api/daemon/events",
  heartbeat: "/api/daemon/heartbeat",
  // A machine joining as a node spends a join token for its node credential.
  join: "/api/daemon/join",
  // Joined and cloud nodes hold this open (POST, the answer is a stream of NDJSON lines): the web app
  // never calls them, it sends them commands here.
  channel: "/api/daemon/channel",
  commandResult: (id: string) => `/api/daemon/commands/${encodeURIComponent(id)}/result`,
  // The daemon as one archive, for machines SAM sets up itself (cloud VMs); its SHA-256 is in the
  // `x-sam-bundle-sha256` header and in the setup script that fetches it.
  bundle: "/api/daemon/bundle",
} as const;

/** A node label: what a project may require of the nodes that run its tasks (`gpu`, `eu`, `arm64`). */
export const nodeLabelSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "a label is 1-63 lowercase letters, digits, '.', '_' or '-'");
export const nodeLabelsSchema = z.array(nodeLabelSchema).max(32);

export const joinRequestSchema = z
  .object({
    token: z.string().min(20).max(200),
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[\w.@-][\w .@-]*$/, "a node name is letters, digits, spaces, '.', '_', '@' or '-'")
      .optional(),
    capacity: z.number().int().min(1).max(64),
    labels: nodeLabelsSchema.default([]),
    version: z.string().min(1).max(50),
  })
  .strict();
export type JoinRequest = z.infer<typeof joinRequestSchema>;

export const joinResponseSchema = z.object({
  nodeId: id,
  // The node's own credential, from now on its bearer token for every web route; kept in its data
  // directory (0600), never shown again.
  credential: z.string().min(32),
  name: z.string(),
  labels: nodeLabelsSchema,
  heartbeatMs: z.number().int().min(100),
});
export type JoinResponse = z.infer<typeof joinResponseSchema>;

/** What a node says when it opens its channel. */
export const channelRequestSchema = z
  .object({ nodeId: id, version: z.string().min(1).max(50), capacity: z.number().int().min(1).max(64) })
  .strict();
export type ChannelRequest = z.infer<typeof channelRequestSchema>;

/**
 * One line of the channel: a command (a daemon route to run, as the web app would have called it
 * over HTTP), or a ping that keeps the connection and shows it is alive. The web app ends the stream
 * now and then (a serverless function's time limit); the node opens it again at once.
 */
export const channelLineSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("command"),
    id,
    method: z.enum(["GET", "POST", "DELETE"]),
    route: z.string().startsWith("/").max(500),
    body: z.unknown().optional(),
  }),
  z.object({ type: z.literal("ping") }),
]);
export type ChannelLine = z.infer<typeof channelLineSchema>;

/** The daemon route's answer to a command, as its HTTP status and JSON body. */
export const commandResultSchema = z
  .object({ status: z.number().int().min(100).max(599), body: z.unknown().optional() })
  .strict();
export type CommandResult = z.infer<typeof commandResultSchema>;

/**
 * What a daemon reports about a session, in order. `seq` is per session, from 1, without gaps; the
 * web app stores each (sessionId, seq) once.
 */
export const agentEventPayloadSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("session_started"), harness: z.string(), model: z.string() }),
  z.object({
    type: z.literal("user_message"),
    text: z.string(),
    source: z.enum(["user", "parent", "system", "task"]),
    messageId: z.string().optional(),
  }),
  z.object({ type: z.literal("agent_text"), text: z.string() }),
  z.object({ type: z.literal("agent_thought"), text: z.string() }),
  z.object({
    type: z.literal("tool_call"),
    toolCallId: z.string(),
    name: z.string(),
    input: z.unknown(),
  }),
  z.object({
    type: z.literal("tool_result"),
    toolCallId: z.string(),
    name: z.string(),
    status: z.enum(["completed", "failed"]),
    output: z.unknown(),
  }),
  z.object({ type: z.literal("agent_error"), message: z.string() }),
  // One model turn's (or one prompt's) token usage, as a delta; `costUsd` when the agent priced it.
  z.object({
    type: z.literal("usage"),
    inputTokens: z.number().int().min(0),
    outputTokens: z.number().int().min(0),
    cachedTokens: z.number().int().min(0).default(0),
    costUsd: z.number().min(0).optional(),
  }),
  // The agent's plan as it stands (each update replaces the previous one).
  z.object({
    type: z.literal("plan"),
    entries: z.array(
      z.object({
        content: z.string(),
        status: z.enum(["pending", "in_progress", "completed"]),
        priority: z.enum(["high", "medium", "low"]).optional(),
      }),
    ),
  }),
  z.object({
    type: z.literal("turn_ended"),
    stopReason: z.enum(["end_turn", "cancelled", "max_turn_requests", "max_tokens", "refusal", "error"]),
  }),
  // `changed: false`: the agent left the workspace as it started; nothing was committed or pushed.
  // (Absent in events of older daemons, which always pushed.)
  z.object({
    type: z.literal("work_saved"),
    branch: z.string(),
    commit: z.string(),
    changed: z.boolean().optional(),
    pushed: z.boolean(),
  }),
  // Terminal: the session is over; the task completes or fails with this outcome. A completed
  // task-mode session without a branch changed nothing.
  z.object({
    type: z.literal("session_finished"),
    outcome: z.enum(["completed", "failed"]),
    reason: z.string().optional(),
    branch: z.string().optional(),
    commit: z.string().optional(),
  }),
]);
export type AgentEventPayload = z.infer<typeof agentEventPayloadSchema>;
export type AgentEventType = AgentEventPayload["type"];

export const agentEventSchema = z.object({
  sessionId: id,
  taskId: id,
  seq: z.number().int().min(1),
  at: z.number().int(),
  event: agentEventPayloadSchema,
});
export type AgentEvent = z.infer<typeof agentEventSchema>;

export const eventBatchSchema = z.object({
  nodeId: id,
  events: z.array(agentEventSchema).min(1).max(500),
});
export type EventBatch = z.infer<typeof eventBatchSchema>;

export const eventBatchResponseSchema = z.object({
  // How many of the batch's events were new (the rest had been stored before).
  stored: z.number().int().min(0),
});

/** `on`: agents run confined; `off`: the operator set SAM_SANDBOX=off; `unavailable`: it cannot start. */
export const SANDBOX_STATES = ["on", "off", "unavailable"] as const;
export type SandboxState = (typeof SANDBOX_STATES)[number];

export const heartbeatRequestSchema = z.object({
  nodeId: id,
  url: z.url(),
  capacity: z.number().int().min(1),
  workspaces: z.number().int().min(0),
  sessions: z.array(z.object({ sessionId: id, taskId: id, state: z.enum(SESSION_STATES) })),
  // Whether this node confines its agents; `unavailable` nodes refuse sessions, `error` says why.
  sandbox: z.object({ state: z.enum(SANDBOX_STATES), error: z.string().max(4000).optional() }).optional(),
  // The daemon's version (the Nodes page shows it).
  version: z.string().min(1).max(50).optional(),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

// ---------------------------------------------------------------------------
// The daemon's own settings, from its environment or flags.

export const daemonConfigSchema = z.object({
  nodeId: z.string().min(1, { message: "SAM_NODE_ID is required" }),
  nodeToken: z.string().min(32, { message: "SAM_NODE_TOKEN must be at least 32 characters" }),
  host: z.string().min(1).default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  capacity: z.coerce.number().int().min(1).max(64).default(4),
  // Where workspaces, repository mirrors and the event outbox live.
  dataDir: z.string().min(1, { message: "SAM_DAEMON_DATA_DIR is required" }),
  // The web app the daemon ships events and heartbeats to; unset: events wait in the outbox.
  webUrl: z.url({ message: "SAM_WEB_URL must be an http(s) URL" }).optional(),
  heartbeatMs: z.coerce.number().int().min(100).max(600_000).default(10_000),
  // `off` runs agents unconfined: only for machines that cannot run bubblewrap, and shown in red.
  sandbox: z.enum(["on", "off"], { message: "SAM_SANDBOX must be on or off" }).default("on"),
  // Set by a web app that starts the daemon on its own machine: with no web app holding the daemon
  // (POST /owner) for this long, it exits as soon as no session is busy. Unset: it lives on its own.
  orphanExitMs: z.coerce.number().int().min(100).max(3_600_000).optional(),
  // Limits of each agent sandbox: processes and threads of the session, and memory of each process.
  sandboxMaxProcesses: z.coerce.number().int().min(16).max(100_000).default(1024),
  sandboxMaxMemoryMb: z.coerce.number().int().min(64).max(1_048_576).default(8192),
  // The uid and gid agents run as when the daemon runs as root.
  sandboxUid: z.coerce.number().int().min(1000).max(4_294_967_294).default(2_000_000_000),
});
export type DaemonConfig = z.infer<typeof daemonConfigSchema>;
