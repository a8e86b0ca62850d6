import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { isMcpPost, serveMcpPost } from "@/lib/mcp/node-endpoint";
import { handleMcpRequest } from "@/lib/mcp/server";
import { createProject } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

let db: Db;
let cleanups: (() => void)[];
let token: string;
let taskId: string;

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** One POST to the MCP handler: the HTTP status and the JSON body. */
async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await handleMcpRequest(
    db,
    new Request("http://127.0.0.1/api/mcp", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, ...HEADERS, ...headers },
      body: JSON.stringify(body),
    }),
  );
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the fields it asked for
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}

const call = (name: string, args: unknown, id: unknown = 7) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

beforeAll(async () => {
  const testDb = await makeTestDb();
  const dir = makeTempDir("sam-mcp-endpoint-");
  db = testDb.db;
  cleanups = [testDb.cleanup, dir.cleanup];
  const owner = await ensureInstanceOwner(db);
  const project = await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "repo")) });
  taskId = (await createTask(db, owner.id, { projectId: project.id, prompt: "Look around" })).id;
  token = await mintTaskToken(db, taskId);
});
afterAll(() => {
  for (const cleanup of cleanups ?? []) cleanup();
});

describe("the MCP endpoint answers tool calls on a short path and keeps every protocol rule", () => {
  it("initialize and tools/list are served by the MCP SDK", async () => {
    const init = await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    expect(init.status).toBe(200);
    expect(init.body.result).toMatchObject({ serverInfo: { name: "sam" }, capabilities: { tools: {} } });
    const list = await post({ jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-protocol-version": "2025-06-18" });
    const graph = list.body.result.tools.find((t: { name: string }) => t.name === "get_task_dependencies");
    expect(Object.keys(graph.inputSchema.properties).sort()).toEqual(["cursor", "limit", "taskId"]);
  });

  it("a tool call gets its result, or SAM's JSON-RPC error, with the request's id", async () => {
    const ok = await post(call("get_instructions", {}, "abc"), { "mcp-protocol-version": "2025-06-18" });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ jsonrpc: "2.0", id: "abc" });
    expect(JSON.parse(ok.body.result.content[0].text).task.id).toBe(taskId);
    const unknown = await post(call("no_such_tool", {}));
    expect(unknown.body).toMatchObject({ jsonrpc: "2.0", id: 7, error: { data: { code: "not_found" } } });
    const bad = await post(call("get_task_dependencies", { limit: 500 }));
    expect(bad.body.error).toMatchObject({ code: -32602, data: { code: "invalid_input" } });
  });

  it("a tool call that breaks a transport rule is refused as the SDK refuses it", async () => {
    const version = await post(call("get_instructions", {}), { "mcp-protocol-version": "1999-01-01" });
    expect(version.status).toBe(400);
    expect(version.body.error.message).toMatch(/Unsupported protocol version/);
    const accept = await post(call("get_instructions", {}), { accept: "application/json" });
    expect(accept.status).toBe(406);
    const type = await post(call("get_instructions", {}), { "content-type": "text/plain" });
    expect(type.status).toBe(415);
    const nullId = await post(call("get_instructions", {}, null));
    expect(nullId.status).toBe(400);
    expect(nullId.body.error.code).toBe(-32700);
    const notObject = await post(call("get_instructions", [1]));
    expect(notObject.body.error.data).toMatchObject({ code: "invalid_input", fields: [{ field: "arguments" }] });
  });

  it("a batch of calls still goes through the SDK and answers each", async () => {
    const res = await post([call("get_instructions", {}, 1), call("get_task_dependencies", {}, 2)]);
    expect(res.status).toBe(200);
    expect(res.body.map((m: { id: number }) => m.id).sort()).toEqual([1, 2]);
    expect(res.body.every((m: { result?: unknown }) => m.result !== undefined)).toBe(true);
  });
});

describe("SAM's own server answers POST /api/mcp without Next, under the proxy's rules", () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (isMcpPost(req)) void serveMcpPost(db, req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const send = (headers: Record<string, string>, body: string) =>
    fetch(`${base}/api/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, ...HEADERS, "accept-encoding": "gzip", ...headers },
      body,
    });

  it("a tool call is answered with the security headers, uncompressed", async () => {
    const res = await send({}, JSON.stringify(call("get_instructions", {})));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const body = await res.json();
    expect(JSON.parse(body.result.content[0].text).task.id).toBe(taskId);
  });

  it("a cross-origin POST, a declared body over the cap and a missing token are refused", async () => {
    const crossOrigin = await send({ origin: "http://evil.example" }, JSON.stringify(call("get_instructions", {})));
    expect(crossOrigin.status).toBe(403);
    expect((await crossOrigin.json()).error.code).toBe("forbidden");
    expect(crossOrigin.headers.get("x-content-type-options")).toBe("nosniff");
    const oversized = await send({}, JSON.stringify(call("create_idea", { title: "x".repeat(2 * 1024 * 1024) })));
    expect(oversized.status).toBe(413);
    const anonymous = await fetch(`${base}/api/mcp`, {
      method: "POST",
      headers: HEADERS,
      body: JSON.stringify(call("get_instructions", {})),
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});
