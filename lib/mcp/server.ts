import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Db } from "@/db/client";
import { authenticateTaskToken } from "../auth/task-tokens";
import { errorResponse, jsonRpcErrorOf, SamError } from "../errors";
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
      // Every failure is a JSON-RPC error with SAM's stable code, never a 5xx.
      const rpc = jsonRpcErrorOf(err);
      throw new McpError(rpc.code, rpc.message, rpc.data);
    }
  });
  return server;
}

/**
 * Serves one MCP request (Streamable HTTP, stateless): the bearer task token is the caller's only
 * identity, checked before anything else.
 */
export async function handleMcpRequest(db: Db, req: Request): Promise<Response> {
  let ctx: ToolContext;
  try {
    ctx = { db, caller: await authenticateTaskToken(db, req.headers.get("authorization")) };
  } catch (err) {
    return errorResponse(err);
  }
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = mcpServerFor(ctx);
  await server.connect(transport);
  try {
    return await transport.handleRequest(req);
  } finally {
    // Stateless: the server and transport live for this request only.
    void server.close();
  }
}
