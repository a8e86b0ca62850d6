import { createHash } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ERROR_CODES } from "@/lib/errors";
import { ACTIVE_STATUSES } from "@/lib/tasks/statuses";

/** An MCP SDK client that speaks for one task token, over the app's real HTTP endpoint. */
export async function mcpClient(baseUrl: string, token: string): Promise<Client> {
  const client = new Client({ name: "sam-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${baseUrl}/api/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

export interface RpcError {
  code: number;
  message: string;
  data?: { code?: string; [key: string]: unknown };
}

/** What one raw POST to /api/mcp came back with: the HTTP status and the body as sent. */
export interface RawResponse {
  status: number;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

let nextRpcId = 1;

/**
 * A raw POST to /api/mcp with any body (a JSON-RPC object, or a string sent as is), so a test sees
 * exactly what the server answered, HTTP status included. `token: null` sends no Authorization.
 */
export async function postMcp(baseUrl: string, token: string | null, body: unknown): Promise<RawResponse> {
  const res = await fetch(`${baseUrl}/api/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** The outcome of one tools/call, sorted into what the server answered. */
export interface ToolOutcome {
  status: number;
  /** A tool result: the parsed JSON of its text content. */
  result?: unknown;
  /** A JSON-RPC error (HTTP 200). */
  error?: RpcError;
  /** An HTTP-level refusal (e.g. 401 for a missing or revoked token): SAM's error body. */
  httpError?: { code: string; message: string };
  raw: RawResponse;
}

/** Calls one MCP tool through a raw JSON-RPC POST and sorts the answer. */
export async function callTool(
  baseUrl: string,
  token: string | null,
  name: string,
  args: unknown,
): Promise<ToolOutcome> {
  const id = nextRpcId++;
  const raw = await postMcp(baseUrl, token, {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name, arguments: args },
  });
  const outcome: ToolOutcome = { status: raw.status, raw };
  const body = raw.json as
    | { result?: { content?: { type: string; text: string }[] }; error?: RpcError | { code: string; message: string } }
    | undefined;
  if (raw.status !== 200) {
    const err = body?.error as { code: string; message: string } | undefined;
    if (err && typeof err.code === "string") outcome.httpError = err;
    return outcome;
  }
  if (body?.error) {
    outcome.error = body.error as RpcError;
  } else if (body?.result?.content?.[0]?.type === "text") {
    outcome.result = JSON.parse(body.result.content[0].text);
  }
  return outcome;
}

/** The result of a call that must succeed; anything else fails the test with what came back. */
export async function callToolOk<T = Record<string, unknown>>(
  baseUrl: string,
  token: string,
  name: string,
  args: unknown,
): Promise<T> {
  const outcome = await callTool(baseUrl, token, name, args);
  if (outcome.result === undefined) {
    throw new Error(`${name}(${JSON.stringify(args)}) did not succeed: HTTP ${outcome.status} ${outcome.raw.text}`);
  }
  return outcome.result as T;
}

/**
 * Whether a raw answer is well formed: a JSON-RPC 2.0 response with either a result whose text
 * content is JSON, or an error with a numeric code and a message (and, when SAM raised it, one of
 * SAM's stable codes other than `internal`). Returns the problem, or undefined.
 */
export function malformedAnswer(raw: RawResponse, id: number | string | null): string | undefined {
  if (raw.status >= 500) return `HTTP ${raw.status}: ${raw.text.slice(0, 500)}`;
  if (raw.status !== 200) {
    const err = (raw.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    // The transport's own refusals (bad JSON, bad headers) are JSON-RPC errors with an HTTP 4xx.
    const rpc = raw.json as { jsonrpc?: string; error?: { code?: unknown; message?: unknown } } | undefined;
    if (rpc?.jsonrpc === "2.0" && typeof rpc.error?.code === "number" && typeof rpc.error.message === "string")
      return undefined;
    if (typeof err?.code === "string" && typeof err.message === "string") return undefined;
    return `HTTP ${raw.status} without an error body: ${raw.text.slice(0, 500)}`;
  }
  const body = raw.json as { jsonrpc?: string; id?: unknown; result?: unknown; error?: RpcError } | undefined;
  if (body?.jsonrpc !== "2.0") return `not a JSON-RPC response: ${raw.text.slice(0, 500)}`;
  if (id !== null && body.id !== id) return `answered id ${JSON.stringify(body.id)} to request ${id}`;
  if (body.error) {
    if (typeof body.error.code !== "number" || typeof body.error.message !== "string" || !body.error.message) {
      return `a malformed JSON-RPC error: ${raw.text.slice(0, 500)}`;
    }
    const samCode = body.error.data?.code;
    if (samCode !== undefined && !(samCode in ERROR_CODES)) return `an unknown SAM error code ${samCode}`;
    if (samCode === "internal") return `an internal error: ${raw.text.slice(0, 500)}`;
    // The MCP SDK validates the request envelope (e.g. `arguments` must be an object) before SAM's
    // handler runs and answers a failure with -32603 and the validation issues; anything else
    // internal is a bug.
    if (body.error.code === -32603 && !(samCode === undefined && body.error.message.includes('"params"'))) {
      return `an internal error: ${raw.text.slice(0, 500)}`;
    }
    return undefined;
  }
  const result = body.result as { content?: { type?: string; text?: string }[]; tools?: unknown[] } | undefined;
  if (!result || typeof result !== "object")
    return `a response with neither result nor error: ${raw.text.slice(0, 500)}`;
  if (Array.isArray(result.content)) {
    const first = result.content[0];
    if (first?.type !== "text" || typeof first.text !== "string")
      return `a result without text content: ${raw.text.slice(0, 500)}`;
    try {
      JSON.parse(first.text);
    } catch {
      return `a result whose text is not JSON: ${first.text.slice(0, 500)}`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The database, read as a whole: snapshots and the orchestration invariants.

/** A hash of whole tables, row by row in a fixed order: equal hashes mean the tables did not change. */
export async function snapshotTables(
  db: Db,
  tables: readonly string[] = [
    "tasks",
    "task_dependencies",
    "inbox_messages",
    "messages",
    "task_events",
    "chat_sessions",
  ],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of tables) {
    const rows = await db.all(sql.raw(`SELECT * FROM ${table} ORDER BY rowid`));
    out[table] = createHash("sha256").update(JSON.stringify(rows)).digest("hex");
  }
  return out;
}

export interface Edge {
  taskId: string;
  dependsOnTaskId: string;
}

/** A cycle in a set of dependency edges (depth-first search), as the list of its task ids, or undefined. */
export function findCycle(edges: readonly Edge[]): string[] | undefined {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.taskId, [...(next.get(e.taskId) ?? []), e.dependsOnTaskId]);
  const state = new Map<string, "open" | "done">();
  for (const start of next.keys()) {
    if (state.has(start)) continue;
    // Iterative DFS: a path stack of [node, index of the next edge to follow].
    const stack: [string, number][] = [[start, 0]];
    state.set(start, "open");
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      const outs = next.get(node) ?? [];
      if (i >= outs.length) {
        state.set(node, "done");
        stack.pop();
        continue;
      }
      top[1] = i + 1;
      const to = outs[i]!;
      const seen = state.get(to);
      if (seen === "open") {
        const from = stack.findIndex(([n]) => n === to);
        return [...stack.slice(from).map(([n]) => n), to];
      }
      if (seen === undefined) {
        state.set(to, "open");
        stack.push([to, 0]);
      }
    }
  }
  return undefined;
}

export async function allEdges(db: Db): Promise<Edge[]> {
  return db.all<Edge>(sql`SELECT task_id AS taskId, depends_on_task_id AS dependsOnTaskId FROM task_dependencies`);
}

const activeList = sql.join(
  ACTIVE_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/**
 * Every orchestration invariant of DESIGN.md checked over the whole database; returns the
 * violations found (empty when all hold).
 */
export async function orchestrationViolations(db: Db): Promise<string[]> {
  const problems: string[] = [];
  const overChildren = await db.all<{ parentId: string; n: number; max: number }>(sql`
    SELECT t.parent_id AS parentId, count(*) AS n, p.max_children AS max
    FROM tasks t JOIN projects p ON p.id = t.project_id
    WHERE t.parent_id IS NOT NULL AND t.status IN (${activeList})
    GROUP BY t.parent_id HAVING count(*) > p.max_children`);
  for (const r of overChildren) problems.push(`parent ${r.parentId} has ${r.n} active children (max ${r.max})`);
  const overProject = await db.all<{ projectId: string; n: number; max: number }>(sql`
    SELECT t.project_id AS projectId, count(*) AS n, p.max_active_dispatched AS max
    FROM tasks t JOIN projects p ON p.id = t.project_id
    WHERE t.depth > 0 AND t.status IN (${activeList})
    GROUP BY t.project_id HAVING count(*) > p.max_active_dispatched`);
  for (const r of overProject)
    problems.push(`project ${r.projectId} has ${r.n} active dispatched tasks (max ${r.max})`);
  const tooDeep = await db.all<{ id: string; depth: number; max: number }>(sql`
    SELECT t.id AS id, t.depth AS depth, p.max_depth AS max FROM tasks t JOIN projects p ON p.id = t.project_id
    WHERE t.depth > p.max_depth`);
  for (const r of tooDeep) problems.push(`task ${r.id} is at depth ${r.depth} (max ${r.max})`);
  const badLineage = await db.all<{ id: string }>(sql`
    SELECT c.id AS id FROM tasks c LEFT JOIN tasks p ON p.id = c.parent_id
    WHERE c.parent_id IS NOT NULL
      AND (p.id IS NULL OR p.project_id <> c.project_id OR c.depth <> p.depth + 1 OR c.root_id <> p.root_id)`);
  for (const r of badLineage) problems.push(`task ${r.id} does not hang correctly under its parent`);
  const noSession = await db.all<{ id: string }>(sql`
    SELECT t.id AS id FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM chat_sessions s WHERE s.task_id = t.id)`);
  for (const r of noSession) problems.push(`task ${r.id} has no chat session`);
  const badEdges = await db.all<Edge & { why: string }>(sql`
    SELECT d.task_id AS taskId, d.depends_on_task_id AS dependsOnTaskId,
      CASE WHEN a.project_id <> b.project_id THEN 'different projects'
           WHEN a.parent_id IS NULL OR b.parent_id IS NULL OR a.parent_id <> b.parent_id THEN 'different parents'
           ELSE 'self-edge' END AS why
    FROM task_dependencies d JOIN tasks a ON a.id = d.task_id JOIN tasks b ON b.id = d.depends_on_task_id
    WHERE a.project_id <> b.project_id OR a.parent_id IS NULL OR b.parent_id IS NULL OR a.parent_id <> b.parent_id
      OR d.task_id = d.depends_on_task_id`);
  for (const r of badEdges) problems.push(`edge ${r.taskId} → ${r.dependsOnTaskId} joins ${r.why}`);
  const cycle = findCycle(await allEdges(db));
  if (cycle) problems.push(`a dependency cycle: ${cycle.join(" → ")}`);
  return problems;
}

// ---------------------------------------------------------------------------
// Fixtures: projects and root tasks through the owner's API.

export interface Limits {
  maxDepth?: number;
  maxChildren?: number;
  maxActiveDispatched?: number;
  maxRetries?: number;
}

interface Api {
  post: <T = unknown>(route: string, body: unknown) => Promise<{ status: number; body: T }>;
  patch: <T = unknown>(route: string, body: unknown) => Promise<{ status: number; body: T }>;
}

/** A project on a local repository, with the given limits. */
export async function createProject(api: Api, repo: string, limits: Limits = {}): Promise<string> {
  const created = await api.post<{ id: string }>("/api/projects", { repo });
  if (created.status !== 201) throw new Error(`POST /api/projects: ${created.status} ${JSON.stringify(created.body)}`);
  if (Object.keys(limits).length > 0) {
    const patched = await api.patch(`/api/projects/${created.body.id}`, limits);
    if (patched.status !== 200)
      throw new Error(`PATCH the project's limits: ${patched.status} ${JSON.stringify(patched.body)}`);
  }
  return created.body.id;
}

/** A root task (depth 0) of a project, queued; with the scheduler off it stays queued. */
export async function createRootTask(
  api: Api,
  projectId: string,
  prompt = "A root task",
  mode: "task" | "conversation" = "task",
): Promise<string> {
  const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode });
  if (created.status !== 201) throw new Error(`POST /api/tasks: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}
