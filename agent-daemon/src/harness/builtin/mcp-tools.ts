/**
 * MCP servers' tools offered to the model as AI SDK tools: the web app's, reached over HTTP with
 * the task token, and, for an ACP client such as an editor, any server it names, over HTTP or as
 * a stdio command. The servers' input schemas pass through unchanged; a server validates the
 * arguments and answers a bad input with an error the model gets to read.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { dynamicTool, type JSONSchema7, jsonSchema, type ToolSet } from "ai";
import { errorMessage } from "./errors.ts";

const CONNECT_TIMEOUT_MS = 10_000;
// Some orchestration tools wait on other agents (stop_subtask's grace period, for one).
const CALL_TIMEOUT_MS = 300_000;

export type McpServerSettings =
  | { type: "http"; url: string; headers: Record<string, string> }
  /** Started in `cwd` with MCP's default environment (PATH, HOME...) plus `env`: no key of the agent's. */
  | { type: "stdio"; command: string; args: string[]; env: Record<string, string>; cwd: string };

/** Where a server is, for messages. */
export function serverLocation(server: McpServerSettings): string {
  return server.type === "http" ? `at ${server.url}` : `command ${[server.command, ...server.args].join(" ")}`;
}

function transportFor(server: McpServerSettings): Transport {
  if (server.type === "http") {
    return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: server.headers } });
  }
  return new StdioClientTransport({ command: server.command, args: server.args, env: server.env, cwd: server.cwd });
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
  const transport = transportFor(server);
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
