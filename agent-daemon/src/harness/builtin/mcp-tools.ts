/**
 * The web app's MCP tools, reached with the task token through the MCP SDK client and offered to
 * the model as AI SDK tools. The server's input schemas pass through unchanged; the server
 * validates the arguments and answers a bad input with an error the model gets to read.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { dynamicTool, type JSONSchema7, jsonSchema, type ToolSet } from "ai";
import { errorMessage } from "./errors.ts";

const CONNECT_TIMEOUT_MS = 10_000;
// Some orchestration tools wait on other agents (stop_subtask's grace period, for one).
const CALL_TIMEOUT_MS = 300_000;

export interface McpServerSettings {
  url: string;
  headers: Record<string, string>;
}

export interface McpTools {
  tools: ToolSet;
  close(): Promise<void>;
}

function asArguments(input: unknown): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Error(`tool arguments must be a JSON object, got ${JSON.stringify(input)}`);
  }
  return input as Record<string, unknown>;
}

/** Connects to the MCP server and lists its tools; throws if the server cannot be reached. */
export async function connectMcpTools(server: McpServerSettings): Promise<McpTools> {
  const client = new Client({ name: "sam-builtin-agent", version: "0.1.0" });
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: server.headers },
  });
  try {
    await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
    const tools: ToolSet = {};
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: CONNECT_TIMEOUT_MS });
      for (const listed of page.tools) {
        tools[listed.name] = dynamicTool({
          description: listed.description ?? listed.title ?? listed.name,
          inputSchema: jsonSchema(listed.inputSchema as JSONSchema7),
          execute: (input, { abortSignal }) =>
            client.callTool({ name: listed.name, arguments: asArguments(input) }, undefined, {
              signal: abortSignal,
              timeout: CALL_TIMEOUT_MS,
            }),
        });
      }
      cursor = page.nextCursor;
    } while (cursor);
    return { tools, close: () => client.close() };
  } catch (error) {
    await client.close().catch(() => {});
    // The SDK's message carries the response body but not the status, which says most (401: bad token).
    const status = error instanceof StreamableHTTPError && error.code !== undefined ? ` (HTTP ${error.code})` : "";
    throw new Error(`${errorMessage(error)}${status}`);
  }
}
