import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { z } from "zod";
import type { Db } from "@/db/client";
import { authenticateTaskToken } from "../auth/task-tokens";
import { errorResponse, jsonRpcErrorOf, SamError } from "../errors";
import { DEFAULT_MAX_BODY_BYTES, readBodyText } from "../http/request-rules";
import { parseInput } from "../validation";
import type { ToolContext } from "./tool";
import { TOOLS } from "./tools";

const toolsByName = new Map(TOOLS.map((t) => [t.name, t]));
const toolList = TOOLS.map((t) => ({
  name: t.name,
  description: t.description,
  inputSchema: z.toJSONSchema(t.input, { io: "input" }) as { type: "object"; [key: string]: unknown },
}));

/** Runs one tool for the caller: its result as MCP text content. */
async function callTool(ctx: ToolContext, name: string, args: unknown) {
  const tool = toolsByName.get(name);
  if (!tool) throw new SamError("not_found", `Unknown tool ${JSON.stringify(name)}`);
  const result = await tool.handler(ctx, parseInput(tool.input, args ?? {}));
  return { content: [{ type: "text" as const, text: JSON.stringify(result) }] };
}

// The SDK's Server builds a JSON Schema validator (Ajv) unless given one: one for the process.
const jsonSchemaValidator = new AjvJsonSchemaValidator();

function mcpServerFor(ctx: ToolContext): Server {
  const server = new Server({ name: "sam", version: "0.1.0" }, { capabilities: { tools: {} }, jsonSchemaValidator });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    try {
      return await callTool(ctx, request.params.name, request.params.arguments);
    } catch (err) {
      // Every failure is a JSON-RPC error with SAM's stable code, never a 5xx. The SDK sends the
      // thrown error's code, message and data as they are; an McpError would prefix the message with
      // "MCP error <code>:", which the caller's client then prefixes again.
      const rpc = jsonRpcErrorOf(err);
      throw Object.assign(new Error(rpc.message), { code: rpc.code, data: rpc.data });
    }
  });
  return server;
}

/** A tools/call the SDK would take as it is: one request, nothing in its params but name, arguments and _meta. */
export interface PlainToolCall {
  id: string | number;
  name: string;
  arguments?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const CALL_PARAMS = new Set(["name", "arguments", "_meta"]);

/**
 * The tools/call in `message` when the request is one the SDK's transport and server would accept
 * and run unchanged: it then gets the same answer without them. Anything else (initialize,
 * tools/list, notifications, batches, odd shapes or headers) returns undefined and goes through the SDK.
 */
function plainToolCall(headers: Headers, message: unknown): PlainToolCall | undefined {
  const accept = headers.get("accept") ?? "";
  const contentType = (headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const version = headers.get("mcp-protocol-version");
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  if (contentType !== "application/json") return undefined;
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  if (!isObject(message) || message.jsonrpc !== "2.0" || message.method !== "tools/call") return undefined;
  if (Object.keys(message).some((k) => k !== "jsonrpc" && k !== "id" && k !== "method" && k !== "params"))
    return undefined;
  const { id, params } = message;
  if (!(typeof id === "string" || Number.isSafeInteger(id)) || !isObject(params)) return undefined;
  if (Object.keys(params).some((k) => !CALL_PARAMS.has(k))) return undefined;
  if (typeof params.name !== "string") return undefined;
  if (params._meta !== undefined && !isObject(params._meta)) return undefined;
  if (params.arguments !== undefined && !isObject(params.arguments)) return undefined;
  return { id: id as string | number, name: params.name, arguments: params.arguments };
}

/** Below this size compressing an answer costs both ends more than it saves (the usual 1 KiB threshold). */
const COMPRESS_FROM_BYTES = 1024;

/** The headers of a JSON answer; a small one asks not to be transformed, so a server streaming it does not gzip it. */
export function jsonAnswerHeaders(text: string): Record<string, string> {
  return {
    "content-type": "application/json",
    ...(Buffer.byteLength(text) < COMPRESS_FROM_BYTES ? { "cache-control": "no-transform" } : {}),
  };
}

/** A plain tools/call answered as the SDK would in JSON response mode: a result, or SAM's JSON-RPC error. */
export async function toolCallAnswer(ctx: ToolContext, call: PlainToolCall): Promise<string> {
  try {
    const result = await callTool(ctx, call.name, call.arguments);
    return JSON.stringify({ result, jsonrpc: "2.0", id: call.id });
  } catch (err) {
    return JSON.stringify({ jsonrpc: "2.0", id: call.id, error: jsonRpcErrorOf(err) });
  }
}

const parsedOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The tool call of a request body that is one plain tools/call (the hot path), else undefined. */
export function plainToolCallIn(headers: Headers, text: string): PlainToolCall | undefined {
  return plainToolCall(headers, parsedOrUndefined(text));
}

/** The caller of an MCP request: its bearer task token is its only identity. */
export async function mcpCaller(db: Db, authorization: string | null): Promise<ToolContext> {
  return { db, caller: await authenticateTaskToken(db, authorization) };
}

/**
 * Answers an authenticated MCP POST whose body was read: a plain tool call directly, anything else
 * (initialize, tools/list, notifications, batches, odd shapes or headers) through the SDK.
 */
export async function answerMcpBody(ctx: ToolContext, url: string, headers: Headers, text: string): Promise<Response> {
  const message = parsedOrUndefined(text);
  // The hot path: a tool call skips the SDK's per-request server, transport and message schemas.
  const call = plainToolCall(headers, message);
  if (call) {
    const answer = await toolCallAnswer(ctx, call);
    return new Response(answer, { headers: jsonAnswerHeaders(answer) });
  }
  // The SDK checks a call's shape before SAM sees it and answers a malformed one with "Internal
  // error"; a call whose arguments are not an object is refused here, naming the problem.
  const refused = refuseNonObjectArguments(message);
  if (refused) return Response.json(refused);
  const request = new Request(url, { method: "POST", headers, body: text });
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = mcpServerFor(ctx);
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    // Stateless: the server and transport live for this request only.
    void server.close();
  }
}

/**
 * Serves one MCP POST (Streamable HTTP, stateless): the bearer task token is the caller's only
 * identity, checked before anything else; the body is read no further than the cap.
 */
export async function handleMcpRequest(db: Db, req: Request, opts: { maxBodyBytes?: number } = {}): Promise<Response> {
  let ctx: ToolContext;
  let text: string;
  try {
    ctx = await mcpCaller(db, req.headers.get("authorization"));
    text = await readBodyText(req, opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  } catch (err) {
    return errorResponse(err);
  }
  return answerMcpBody(ctx, req.url, req.headers, text);
}

/** A JSON-RPC error for a tools/call whose `arguments` is present but not a JSON object. */
function refuseNonObjectArguments(message: unknown): unknown {
  if (!message || typeof message !== "object" || Array.isArray(message)) return undefined;
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: { arguments?: unknown } };
  if (method !== "tools/call" || params?.arguments === undefined) return undefined;
  const args = params.arguments;
  if (args !== null && typeof args === "object" && !Array.isArray(args)) return undefined;
  const error = jsonRpcErrorOf(
    new SamError("invalid_input", "The tool's arguments must be a JSON object of its parameters", {
      fields: [
        { field: "arguments", message: `must be an object, got ${Array.isArray(args) ? "an array" : typeof args}` },
      ],
    }),
  );
  return { jsonrpc: "2.0", id: id ?? null, error };
}
