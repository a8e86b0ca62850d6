import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;
const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull().default(now);
const updatedAt = () => integer("updated_at", { mode: "timestamp_ms" }).notNull().default(now);

export const TASK_STATUSES = [
  "queued",
  "provisioning",
  "running",
  "awaiting_followup",
  // The agent's turn ended while subtasks are active: each child's end (or a wait_for_subtasks
  // condition) wakes it with a new turn in the same session.
  "awaiting_subtasks",
  // The agent asked a person (request_human_input); the answer resumes the same session.
  "awaiting_input",
  "completed",
  "failed",
  "cancelled",
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TASK_MODES = ["task", "conversation"] as const;
export type TaskMode = (typeof TASK_MODES)[number];

export const IDEA_STATUSES = ["draft", "exploring", "ready", "executing", "done", "parked"] as const;
export type IdeaStatus = (typeof IDEA_STATUSES)[number];

export const TOKEN_KINDS = ["task", "node", "personal", "join", "login"] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export const MEMBER_ROLES = ["owner", "member"] as const;

export const PULL_REQUEST_STATES = ["open", "merged", "closed"] as const;
export type PullRequestState = (typeof PULL_REQUEST_STATES)[number];

export const MERGE_STRATEGIES = ["merge", "squash", "rebase"] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];
export type MemberRole = (typeof MEMBER_ROLES)[number];

// ---------------------------------------------------------------------------
// Users and the Auth.js tables (shape required by @auth/drizzle-adapter).

export const users = sqliteTable(
  "users",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    name: text("name"),
    email: text("email").unique(),
    emailVerified: integer("email_verified", { mode: "timestamp_ms" }),
    image: text("image"),
    // The local owner account of a self-hosted instance, signed in through one-time links. It is the
    // first user (created when the instance first starts) and the instance's one admin.
    isInstanceOwner: integer("is_instance_owner", { mode: "boolean" }).notNull().default(false),
    // The GitHub login of a user who signs in with GitHub, lowercased, refreshed at each sign-in: an
    // owner can invite a person by it.
    githubLogin: text("github_login"),
    // What the project chat's composer does on send, remembered across devices.
    chatMode: text("chat_mode", { enum: TASK_MODES }).notNull().default("conversation"),
    createdAt: createdAt(),
  },
  (t) => [index("users_github_login_idx").on(t.githubLogin)],
);

export const accounts = sqliteTable(
  "accounts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    refresh_token: text("refresh_token"),
    access_token: text("access_token"),
    expires_at: integer("expires_at"),
    token_type: text("token_type"),
    scope: text("scope"),
    id_token: text("id_token"),
    session_state: text("session_state"),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerAccountId] })],
);

export const sessions = sqliteTable("sessions", {
  sessionToken: text("session_token").primaryKey(),
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  expires: integer("expires", { mode: "timestamp_ms" }).notNull(),
});

export const verificationTokens = sqliteTable(
  "verification_tokens",
  {
    identifier: text("identifier").notNull(),
    token: text("token").notNull(),
    expires: integer("expires", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.identifier, t.token] })],
);

// ---------------------------------------------------------------------------
// Projects and membership.

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    // A local path (absolute) or a remote URL (https, ssh, scp-like, file).
    repo: text("repo").notNull(),
    repoKind: text("repo_kind", { enum: ["local", "remote"] }).notNull(),
    defaultBranch: text("default_branch").notNull(),
    maxDepth: integer("max_depth").notNull().default(3),
    maxChildren: integer("max_children").notNull().default(5),
    maxActiveDispatched: integer("max_active_dispatched").notNull().default(10),
    maxRetries: integer("max_retries").notNull().default(3),
    stopGraceSeconds: integer("stop_grace_seconds").notNull().default(5),
    harness: text("harness").notNull().default("builtin"),
    model: text("model").notNull().default("scripted"),
    // What an agent's sandbox may reach: `open` (anything, so agents can install packages) or `none`
    // (nothing but SAM's MCP endpoint).
    network: text("network", { enum: ["open", "none"] })
      .notNull()
      .default("open"),
    // Whether a pull request's branch is deleted from the repository once it is merged or closed.
    deleteBranches: integer("delete_branches", { mode: "boolean" }).notNull().default(true),
    // A GitHub Enterprise Server's web URL (https://ghe.example.com) when the remote is on one;
    // github.com remotes need none.
    githubUrl: text("github_url"),
    // An OpenAI-compatible server's base URL (Ollama, vLLM): a plain setting, not a secret.
    modelBaseUrl: text("model_base_url"),
    // For harness `acp`: the command that starts the custom ACP agent.
    agentCommand: text("agent_command"),
    // How agents' permission requests are answered (see PERMISSION_POLICIES in the daemon contract).
    permissionPolicy: text("permission_policy", { enum: ["allow", "deny"] })
      .notNull()
      .default("allow"),
    // Labels a node must have to run this project's tasks (a JSON array; empty: any node).
    nodeLabels: text("node_labels").notNull().default("[]"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: integer("archived_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("projects_archived_idx").on(t.archivedAt)],
);

export const projectMembers = sqliteTable(
  "project_members",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: MEMBER_ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.userId] }), index("project_members_user_idx").on(t.userId)],
);

export const INVITEE_KINDS = ["email", "github"] as const;
export type InviteeKind = (typeof INVITEE_KINDS)[number];

/**
 * A project owner's invitation of a person who has no account yet, by email or GitHub login
 * (lowercased). It admits them through GitHub sign-in, and becomes a membership at their first
 * sign-in.
 */
export const projectInvitations = sqliteTable(
  "project_invitations",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    inviteeKind: text("invitee_kind", { enum: INVITEE_KINDS }).notNull(),
    invitee: text("invitee").notNull(),
    role: text("role", { enum: MEMBER_ROLES }).notNull(),
    invitedByUserId: text("invited_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    acceptedAt: integer("accepted_at", { mode: "timestamp_ms" }),
    acceptedByUserId: text("accepted_by_user_id").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [
    uniqueIndex("project_invitations_invitee_idx").on(t.projectId, t.inviteeKind, t.invitee),
    // Sign-in looks up a person's open invitations by their login and emails.
    index("project_invitations_lookup_idx").on(t.inviteeKind, t.invitee),
    // The landing page after a first sign-in looks for the invitation it accepted.
    index("project_invitations_accepted_by_idx").on(t.acceptedByUserId, t.acceptedAt),
  ],
);

// ---------------------------------------------------------------------------
// Nodes and workspaces.

export const nodes = sqliteTable(
  "nodes",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    provider: text("provider", { enum: ["local", "joined", "hetzner"] }).notNull(),
    status: text("status", {
      enum: ["provisioning", "ready", "warm", "draining", "lost", "destroyed"],
    }).notNull(),
    // Base URL of the node's agent daemon.
    url: text("url"),
    capacity: integer("capacity").notNull().default(4),
    // The node token, encrypted with the instance key: the web app presents it to the daemon. The
    // daemon's calls are checked against its hash in `tokens`.
    tokenCiphertext: text("token_ciphertext"),
    // Provider-specific handle: for local nodes the daemon's pid and data dir.
    providerRef: text("provider_ref"),
    lastHeartbeatAt: integer("last_heartbeat_at", { mode: "timestamp_ms" }),
    warmUntil: integer("warm_until", { mode: "timestamp_ms" }),
    // Whether the node confines its agents, as its daemon reports it: `on`, `off` (the operator set
    // SAM_SANDBOX=off: agents run unconfined) or `unavailable` (the sandbox cannot start; the node
    // refuses sessions), with `sandboxError` saying why.
    sandbox: text("sandbox", { enum: ["on", "off", "unavailable"] }),
    sandboxError: text("sandbox_error"),
    // What work the node may take: a project that requires labels is placed only on nodes with all
    // of them. A JSON array of strings.
    labels: text("labels").notNull().default("[]"),
    // The daemon's version, as it reported it when it joined or last connected.
    version: text("version"),
    // Joined and cloud nodes: the web app's URL as the node reaches it (its agents' MCP endpoint is
    // there). Local nodes use the web app's internal URL.
    webUrl: text("web_url"),
    // When the node's command channel last connected, and whether one is open now (the instance
    // holding it clears it when it closes).
    channelConnectedAt: integer("channel_connected_at", { mode: "timestamp_ms" }),
    channelOpen: integer("channel_open", { mode: "boolean" }).notNull().default(false),
    // Cloud nodes: the provider's price per hour (gross, in `currency`), to show the cost so far.
    pricePerHour: real("price_per_hour"),
    currency: text("currency"),
    // The cloud settings that created this node (null for local and joined nodes).
    cloudSettingsId: text("cloud_settings_id"),
    // Why the node is lost or could not start, for the Nodes page.
    statusReason: text("status_reason"),
    destroyedAt: integer("destroyed_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [index("nodes_status_idx").on(t.status)],
);

/**
 * One-use tokens that let a machine join as a node (`sam node token`). Only the hash is stored; the
 * token is spent by the join, which records the node it became.
 */
export const nodeJoinTokens = sqliteTable("node_join_tokens", {
  id: text("id").primaryKey(),
  tokenHash: text("token_hash").notNull().unique(),
  // Labels the joining node gets (a JSON array), besides any it asks for.
  labels: text("labels").notNull().default("[]"),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  // Set when a cloud provider made the token for a VM it creates.
  cloudSettingsId: text("cloud_settings_id"),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  usedAt: integer("used_at", { mode: "timestamp_ms" }),
  nodeId: text("node_id").references(() => nodes.id, { onDelete: "set null" }),
  createdAt: createdAt(),
});

export const NODE_COMMAND_STATUSES = ["pending", "sent", "done"] as const;

/**
 * Commands for nodes the web app never calls (joined and cloud nodes): written here, carried to the
 * node over the channel it keeps open, answered by the node. Any instance may write one; the
 * instance holding the node's channel sends it.
 */
export const nodeCommands = sqliteTable(
  "node_commands",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    // The daemon route it stands for: method, path and JSON body.
    method: text("method").notNull(),
    route: text("route").notNull(),
    body: text("body"),
    status: text("status", { enum: NODE_COMMAND_STATUSES }).notNull().default("pending"),
    resultStatus: integer("result_status"),
    resultBody: text("result_body"),
    // After this the caller has given up: the command is not sent any more.
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
    doneAt: integer("done_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [index("node_commands_node_status_idx").on(t.nodeId, t.status)],
);

export const CLOUD_PROVIDERS = ["hetzner"] as const;

/**
 * Where SAM creates VMs when no node has room: for one project, or for the instance (projectId
 * null). One row per scope.
 */
export const cloudSettings = sqliteTable(
  "cloud_settings",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
    provider: text("provider", { enum: CLOUD_PROVIDERS }).notNull(),
    // The API token: the name of a project secret (project scope), or encrypted with the instance
    // key (instance scope).
    tokenSecretName: text("token_secret_name"),
    tokenCiphertext: text("token_ciphertext"),
    serverType: text("server_type").notNull(),
    location: text("location").notNull(),
    image: text("image").notNull(),
    // Labels given to the VMs it creates (a JSON array).
    labels: text("labels").notNull().default("[]"),
    capacity: integer("capacity").notNull().default(4),
    maxVms: integer("max_vms").notNull().default(3),
    warmMinutes: integer("warm_minutes").notNull().default(30),
    warmPool: integer("warm_pool").notNull().default(0),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    // Creation failures back off: how many in a row, until when, and the last one's words.
    failures: integer("failures").notNull().default(0),
    backoffUntil: integer("backoff_until", { mode: "timestamp_ms" }),
    lastError: text("last_error"),
    lastErrorAt: integer("last_error_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("cloud_settings_project_idx").on(t.projectId)],
);

export const workspaces = sqliteTable(
  "workspaces",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id),
    taskId: text("task_id").notNull(),
    path: text("path").notNull(),
    branch: text("branch").notNull(),
    status: text("status", { enum: ["creating", "ready", "removed", "failed"] }).notNull(),
    createdAt: createdAt(),
    removedAt: integer("removed_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("workspaces_node_status_idx").on(t.nodeId, t.status), index("workspaces_task_idx").on(t.taskId)],
);

// ---------------------------------------------------------------------------
// Tasks, their dependencies and their append-only event log.

export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    parentId: text("parent_id"),
    rootId: text("root_id").notNull(),
    depth: integer("depth").notNull().default(0),
    mode: text("mode", { enum: TASK_MODES }).notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull().default("queued"),
    title: text("title").notNull(),
    description: text("description").notNull(),
    baseBranch: text("base_branch"),
    branch: text("branch"),
    prUrl: text("pr_url"),
    summary: text("summary"),
    // The agent's latest progress report (update_task_status).
    progress: text("progress"),
    failureReason: text("failure_reason"),
    // Retry lineage: the first task of a lineage and the task this one replaces.
    lineageId: text("lineage_id").notNull(),
    retryOfId: text("retry_of_id"),
    retryCount: integer("retry_count").notNull().default(0),
    nodeId: text("node_id"),
    workspaceId: text("workspace_id"),
    sourceIdeaId: text("source_idea_id"),
    // A revision task works on this pull request's branch (review changes, a conflict to resolve).
    pullRequestId: text("pull_request_id"),
    // A revision that resolves its pull request's conflicts starts with the base branch merged in,
    // the conflicts left in the files for its agent.
    mergesBase: integer("merges_base", { mode: "boolean" }).notNull().default(false),
    createdByUserId: text("created_by_user_id"),
    harness: text("harness"),
    model: text("model"),
    // A stop is recorded before it starts so a restart can finish it.
    stopRequestedAt: integer("stop_requested_at", { mode: "timestamp_ms" }),
    stopReason: text("stop_reason"),
    stopGraceSeconds: integer("stop_grace_seconds"),
    // The recorded stop is a user ending their conversation: nothing is saved and it completes.
    stopEnds: integer("stop_ends", { mode: "boolean" }).notNull().default(false),
    // When the node acknowledged the stop; until then every scheduler pass sends it again.
    stopDeliveredAt: integer("stop_delivered_at", { mode: "timestamp_ms" }),
    // The agent called complete_task: its turn's end completes the task without waiting for subtasks.
    completeRequestedAt: integer("complete_requested_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("tasks_parent_status_idx").on(t.parentId, t.status),
    // get_task_dependencies reads a parent's children a page at a time in id order.
    index("tasks_parent_id_idx").on(t.parentId, t.id),
    index("tasks_project_status_idx").on(t.projectId, t.status),
    index("tasks_project_depth_status_idx").on(t.projectId, t.depth, t.status),
    // The project sidebar pages root tasks newest first and polls for recent changes.
    index("tasks_project_depth_created_idx").on(t.projectId, t.depth, t.createdAt),
    index("tasks_project_updated_idx").on(t.projectId, t.updatedAt),
    index("tasks_lineage_idx").on(t.lineageId),
    index("tasks_node_status_idx").on(t.nodeId, t.status),
    // An idea's page lists the tasks run from it; its outcome follows the latest one.
    index("tasks_source_idea_idx").on(t.sourceIdeaId, t.createdAt),
    index("tasks_pull_request_idx").on(t.pullRequestId, t.createdAt),
    // Every scheduler pass looks for stops not yet acknowledged by a node.
    index("tasks_stop_pending_idx")
      .on(t.stopRequestedAt)
      .where(sql`stop_requested_at IS NOT NULL AND stop_delivered_at IS NULL`),
  ],
);

export const taskDependencies = sqliteTable(
  "task_dependencies",
  {
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    dependsOnTaskId: text("depends_on_task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.taskId, t.dependsOnTaskId] }),
    index("task_dependencies_depends_on_idx").on(t.dependsOnTaskId),
  ],
);

export const taskEvents = sqliteTable(
  "task_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    fromStatus: text("from_status", { enum: TASK_STATUSES }),
    toStatus: text("to_status", { enum: TASK_STATUSES }).notNull(),
    actorKind: text("actor_kind", { enum: ["user", "task", "system", "node"] }).notNull(),
    actorId: text("actor_id"),
    reason: text("reason"),
    createdAt: createdAt(),
  },
  (t) => [index("task_events_task_idx").on(t.taskId, t.id)],
);

// ---------------------------------------------------------------------------
// Chat sessions, their messages and the agent events shipped by daemons.

export const chatSessions = sqliteTable(
  "chat_sessions",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // Every session is backed by exactly one task.
    taskId: text("task_id")
      .notNull()
      .unique()
      .references(() => tasks.id, { onDelete: "cascade" }),
    mode: text("mode", { enum: TASK_MODES }).notNull(),
    state: text("state", { enum: ["active", "awaiting_followup", "ended"] })
      .notNull()
      .default("active"),
    title: text("title").notNull(),
    createdByUserId: text("created_by_user_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("chat_sessions_project_idx").on(t.projectId, t.updatedAt)],
);

export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => chatSessions.id, { onDelete: "cascade" }),
    // Per-session sequence number; messages are append-only.
    seq: integer("seq").notNull(),
    role: text("role", { enum: ["user", "assistant", "system", "tool"] }).notNull(),
    authorKind: text("author_kind", { enum: ["user", "agent", "parent", "system"] }).notNull(),
    authorId: text("author_id"),
    content: text("content").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("messages_session_seq_idx").on(t.sessionId, t.seq)],
);

export const agentEvents = sqliteTable(
  "agent_events",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => chatSessions.id, { onDelete: "cascade" }),
    // Sequence number assigned by the daemon's outbox; (session, seq) is stored once.
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    payload: text("payload").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.seq] })],
);

// ---------------------------------------------------------------------------
// Ideas, linked many-to-many to chat sessions.

export const ideas = sqliteTable(
  "ideas",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    content: text("content").notNull().default(""),
    status: text("status", { enum: IDEA_STATUSES }).notNull().default("draft"),
    priority: integer("priority").notNull().default(0),
    // Order within a kanban column.
    position: integer("position").notNull().default(0),
    createdByUserId: text("created_by_user_id"),
    createdByTaskId: text("created_by_task_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("ideas_project_status_idx").on(t.projectId, t.status, t.position)],
);

export const ideaSessionLinks = sqliteTable(
  "idea_session_links",
  {
    ideaId: text("idea_id")
      .notNull()
      .references(() => ideas.id, { onDelete: "cascade" }),
    sessionId: text("session_id")
      .notNull()
      .references(() => chatSessions.id, { onDelete: "cascade" }),
    context: text("context"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.ideaId, t.sessionId] }), index("idea_session_links_session_idx").on(t.sessionId)],
);

// ---------------------------------------------------------------------------
// Pull requests: a task's branch proposed for its base branch, reviewed and merged by SAM (or by
// GitHub, when the project's remote is there).

export const pullRequests = sqliteTable(
  "pull_requests",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // Counts per project from 1.
    number: integer("number").notNull(),
    // The task whose work opened it; revision tasks point back with tasks.pull_request_id.
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    body: text("body").notNull().default(""),
    state: text("state", { enum: PULL_REQUEST_STATES }).notNull().default("open"),
    headBranch: text("head_branch").notNull(),
    baseBranch: text("base_branch").notNull(),
    // The head commit the figures below were counted at, and what it was compared with: a merged or
    // closed PR's diff stays readable after its branch is gone.
    headCommit: text("head_commit"),
    comparisonCommit: text("comparison_commit"),
    additions: integer("additions").notNull().default(0),
    deletions: integer("deletions").notNull().default(0),
    changedFiles: integer("changed_files").notNull().default(0),
    mergeCommit: text("merge_commit"),
    mergeStrategy: text("merge_strategy", { enum: MERGE_STRATEGIES }),
    mergedAt: integer("merged_at", { mode: "timestamp_ms" }),
    mergedByUserId: text("merged_by_user_id"),
    closedAt: integer("closed_at", { mode: "timestamp_ms" }),
    closedByUserId: text("closed_by_user_id"),
    // The pull request on GitHub, when it was opened there.
    url: text("url"),
    githubNumber: integer("github_number"),
    githubSyncedAt: integer("github_synced_at", { mode: "timestamp_ms" }),
    // Why the last attempt to open or sync it on GitHub failed.
    githubError: text("github_error"),
    // One merge or close at a time: who holds the PR and until when.
    lockToken: text("lock_token"),
    lockedUntil: integer("locked_until", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("pull_requests_project_number_idx").on(t.projectId, t.number),
    uniqueIndex("pull_requests_task_idx").on(t.taskId),
    index("pull_requests_project_state_idx").on(t.projectId, t.state, t.number),
  ],
);

export const pullRequestComments = sqliteTable(
  "pull_request_comments",
  {
    id: text("id").primaryKey(),
    pullRequestId: text("pull_request_id")
      .notNull()
      .references(() => pullRequests.id, { onDelete: "cascade" }),
    authorUserId: text("author_user_id").references(() => users.id, { onDelete: "set null" }),
    // Shown as written: a user's name, or a GitHub login for a comment synced from GitHub.
    authorName: text("author_name").notNull(),
    body: text("body").notNull(),
    // A line comment: the file and the line in the head's version of it.
    path: text("path"),
    line: integer("line"),
    // The comment's id on GitHub: synced comments are not imported twice.
    githubId: text("github_id"),
    // When a Request changes carried it to the task's agent.
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("pull_request_comments_pr_idx").on(t.pullRequestId, t.createdAt),
    uniqueIndex("pull_request_comments_github_idx").on(t.pullRequestId, t.githubId),
  ],
);

// ---------------------------------------------------------------------------
// Tokens (stored only as hashes), inbox, notifications, secrets.

export const tokens = sqliteTable(
  "tokens",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: TOKEN_KINDS }).notNull(),
    // SHA-256 of the token; the token itself is never stored.
    tokenHash: text("token_hash").notNull().unique(),
    name: text("name"),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
    taskId: text("task_id").references(() => tasks.id, { onDelete: "cascade" }),
    nodeId: text("node_id").references(() => nodes.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("tokens_task_idx").on(t.taskId), index("tokens_user_kind_idx").on(t.userId, t.kind)],
);

export const inboxMessages = sqliteTable(
  "inbox_messages",
  {
    id: text("id").primaryKey(),
    // The task whose session receives the message.
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    senderTaskId: text("sender_task_id"),
    senderUserId: text("sender_user_id"),
    kind: text("kind", { enum: ["message", "stop_warning", "child_ended", "system"] }).notNull(),
    body: text("body").notNull(),
    createdAt: createdAt(),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("inbox_messages_pending_idx").on(t.taskId, t.deliveredAt)],
);

/**
 * A wait_for_subtasks call: the task's next wake is one message with every child's outcome, sent
 * when the condition holds or the deadline passes. Until then its children's ends do not wake it.
 */
export const taskWaits = sqliteTable(
  "task_waits",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    // JSON array of the children waited on; null: every child of the task.
    taskIds: text("task_ids"),
    until: text("until", { enum: ["all", "any"] }).notNull(),
    deadlineAt: integer("deadline_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    resolvedAt: integer("resolved_at", { mode: "timestamp_ms" }),
    // Why it resolved: the condition held, or the deadline passed.
    resolution: text("resolution", { enum: ["condition", "timeout"] }),
  },
  (t) => [
    // Invariant: a task has at most one open wait.
    uniqueIndex("task_waits_open_idx").on(t.taskId).where(sql`resolved_at IS NULL`),
  ],
);

/** A question an agent put to a person (request_human_input) and its answer. */
export const humanRequests = sqliteTable(
  "human_requests",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    question: text("question").notNull(),
    // JSON array of suggested answers, shown as buttons; null: a free answer.
    options: text("options"),
    createdAt: createdAt(),
    answer: text("answer"),
    answeredByUserId: text("answered_by_user_id").references(() => users.id, { onDelete: "set null" }),
    answeredAt: integer("answered_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    // Invariant: a task has at most one unanswered question.
    uniqueIndex("human_requests_open_idx").on(t.taskId).where(sql`answered_at IS NULL`),
  ],
);

export const NOTIFICATION_KINDS = [
  "needs_input",
  "task_completed",
  "task_failed",
  "pr_opened",
  "pr_merged",
  "progress",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export const NOTIFICATION_URGENCIES = ["low", "normal", "high"] as const;

/**
 * Something in a project people are told about, once (`dedup_key`): each recipient gets a
 * `notifications` row pointing at it, webhooks read it in `seq` order. A progress event is updated
 * in place within its batching window.
 */
export const notificationEvents = sqliteTable(
  "notification_events",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    taskId: text("task_id").references(() => tasks.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: NOTIFICATION_KINDS }).notNull(),
    urgency: text("urgency", { enum: NOTIFICATION_URGENCIES }).notNull().default("normal"),
    title: text("title").notNull(),
    body: text("body").notNull().default(""),
    // Invariant: one event per key (`task_completed:<task>`, `needs_input:<request>`, ...).
    dedupKey: text("dedup_key").notNull().unique(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("notification_events_task_kind_idx").on(t.taskId, t.kind, t.createdAt)],
);

/** One person's copy of an event: what their bell counts and what they mark read. */
export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    eventSeq: integer("event_seq")
      .notNull()
      .references(() => notificationEvents.seq, { onDelete: "cascade" }),
    createdAt: createdAt(),
    readAt: integer("read_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("notifications_user_event_idx").on(t.userId, t.eventSeq),
    index("notifications_user_unread_idx").on(t.userId, t.readAt),
  ],
);

/** A person's choice to hear (or not) one kind of notification from one project; no row: they do. */
export const notificationPrefs = sqliteTable(
  "notification_prefs",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: NOTIFICATION_KINDS }).notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.projectId, t.kind] })],
);

export const WEBHOOK_FORMATS = ["slack", "discord", "json"] as const;
export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

/** A project's outgoing webhook. Its URL is a secret (Slack's and Discord's carry their token). */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // AES-256-GCM like `secrets`; `url_hint` is what lists show (scheme, host, a hint of the path).
    urlCiphertext: text("url_ciphertext").notNull(),
    urlHint: text("url_hint").notNull(),
    format: text("format", { enum: WEBHOOK_FORMATS }).notNull(),
    // The HMAC-SHA256 signing secret of the `json` format, encrypted; null: unsigned.
    secretCiphertext: text("secret_ciphertext"),
    // JSON array of the notification kinds sent.
    kinds: text("kinds").notNull(),
    // The last notification event this webhook has taken deliveries for (events before it was added are not sent).
    cursorSeq: integer("cursor_seq").notNull().default(0),
    createdByUserId: text("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [index("webhooks_project_idx").on(t.projectId)],
);

/** One event to send to one webhook (again, for a replay), retried with backoff until it is taken. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventSeq: integer("event_seq")
      .notNull()
      .references(() => notificationEvents.seq, { onDelete: "cascade" }),
    // The delivery this one replays; null for the first.
    replayOfId: text("replay_of_id"),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull().default(now),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    // Invariant: an event is delivered to a webhook once, replays aside.
    uniqueIndex("webhook_deliveries_first_idx").on(t.webhookId, t.eventSeq).where(sql`replay_of_id IS NULL`),
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
  ],
);

/** The log of every attempt at a delivery. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    at: integer("at", { mode: "timestamp_ms" }).notNull().default(now),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId)],
);

export const secrets = sqliteTable(
  "secrets",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["model_api_key", "git_token", "other"] }).notNull(),
    name: text("name").notNull(),
    // AES-256-GCM: base64 of iv (12 bytes) | tag (16 bytes) | ciphertext.
    ciphertext: text("ciphertext").notNull(),
    // The last characters of the value, enough to recognise it in the UI.
    hint: text("hint").notNull(),
    createdByUserId: text("created_by_user_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("secrets_project_name_idx").on(t.projectId, t.name)],
);

// ---------------------------------------------------------------------------
// Token usage and what it costs.

/**
 * One turn's token usage (a delta) of a task's session, from the agent's usage event; stored once
 * per event (session, seq), so a batch shipped twice is counted once.
 */
export const taskUsage = sqliteTable(
  "task_usage",
  {
    sessionId: text("session_id").notNull(),
    seq: integer("seq").notNull(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    // The model the turn ran on (`provider:model`), which prices it.
    model: text("model").notNull(),
    inputTokens: integer("input_tokens").notNull(),
    outputTokens: integer("output_tokens").notNull(),
    cachedTokens: integer("cached_tokens").notNull().default(0),
    // What the agent itself said the turn cost, when it did; otherwise the price table decides.
    reportedCostUsd: real("reported_cost_usd"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.seq] }), index("task_usage_task_idx").on(t.taskId)],
);

/** The editable price table: US dollars per million tokens of one model (`provider:model`). */
export const modelPrices = sqliteTable("model_prices", {
  model: text("model").primaryKey(),
  inputPerMillion: real("input_per_million").notNull(),
  outputPerMillion: real("output_per_million").notNull(),
  cachedInputPerMillion: real("cached_input_per_million"),
  updatedAt: updatedAt(),
});
