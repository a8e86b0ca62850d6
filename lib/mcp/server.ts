import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
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

function mcpServerFor(ctx: ToolContext): Server {
  const server = new Server({ name: "sam", version: "0.1.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = toolsByName.get(request.params.name);
    try {
      if (!tool) throw new SamError("not_found", `Unknown tool ${JSON.stringify(request.params.name)}`);
      const args = parseInput(tool.input, request.params.arguments ?? {});
      const result = await tool.handler(ctx, args);
      return { content: [{ type: "text", text: JSON.stringify(result) }] };
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

/**
 * Serves one MCP POST (Streamable HTTP, stateless): the bearer task token is the caller's only
 * identity, checked before anything else; the body is read no further than the cap.
 */
export async function handleMcpRequest(db: Db, req: Request, opts: { maxBodyBytes?: number } = {}): Promise<Response> {
  let ctx: ToolContext;
  let text: string;
  try {
    ctx = { db, caller: await authenticateTaskToken(db, req.headers.get("authorization")) };
    text = await readBodyText(req, opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  } catch (err) {
    return errorResponse(err);
  }
  // The SDK checks a call's shape before SAM sees it and answers a malformed one with "Internal
  // error"; a call whose arguments are not an object is refused here, naming the problem.
  const refused = refuseNonObjectArguments(text);
  if (refused) return Response.json(refused);
  const request = new Request(req.url, { method: "POST", headers: req.headers, body: text });
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

/** A JSON-RPC error for a tools/call whose `arguments` is present but not a JSON object. */
function refuseNonObjectArguments(body: string): unknown {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return undefined;
  }
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
