/**
 * The built-in agent's ACP side: initialize, session/new, session/prompt and session/cancel over
 * any ACP stream — in-memory for the in-process harness, stdio for the subprocess one.
 *
 * A turn that fails (the model threw, a malformed script) is answered with a JSON-RPC error
 * carrying the reason: ACP's stop reasons have no "error", and an error response is what any ACP
 * client understands as a failed prompt. The session stays usable for the next prompt.
 */
import { randomUUID } from "node:crypto";
import {
  agent,
  type ContentBlock,
  methods,
  type NewSessionRequest,
  PROTOCOL_VERSION,
  RequestError,
  type Stream,
} from "@agentclientprotocol/sdk";
import { z } from "zod";
import { samSessionMetaSchema } from "../session-meta.ts";
import { errorMessage } from "./errors.ts";
import { BuiltinSession, type SessionSetup } from "./session.ts";

// JSON-RPC error codes (the SDK's helpers would prefix our messages with "Invalid params: " etc.).
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

const AGENT_INFO = { name: "sam-builtin", title: "SAM built-in agent", version: "0.1.0" };

/** The text the model gets from a prompt's content blocks. */
function promptText(blocks: ContentBlock[]): string {
  return blocks
    .map((block) => {
      if (block.type === "text") return block.text;
      if (block.type === "resource_link") return block.uri;
      if (block.type === "resource" && "text" in block.resource) return block.resource.text;
      return "";
    })
    .filter((text) => text.length > 0)
    .join("\n\n");
}

function sessionSetup(params: NewSessionRequest): SessionSetup {
  const meta = samSessionMetaSchema.safeParse(params._meta?.sam);
  if (!meta.success) {
    throw new RequestError(INVALID_PARAMS, `session/new _meta.sam is invalid: ${z.prettifyError(meta.error)}`);
  }
  const mcpServers: SessionSetup["mcpServers"] = [];
  for (const server of params.mcpServers) {
    if (!("type" in server) || server.type !== "http") {
      throw new RequestError(INVALID_PARAMS, `MCP server "${server.name}": only http MCP servers are supported`);
    }
    const headers = Object.fromEntries(server.headers.map((header) => [header.name, header.value]));
    mcpServers.push({ name: server.name, url: server.url, headers });
  }
  return { cwd: params.cwd, meta: meta.data, mcpServers };
}

/** Serves the built-in agent on `stream` until the connection closes; then its sessions are closed. */
export function serveBuiltinAgent(stream: Stream): { closed: Promise<void>; close(): void } {
  const sessions = new Map<string, BuiltinSession>();

  const app = agent({ name: AGENT_INFO.name })
    .onRequest(methods.agent.initialize, () => ({
      protocolVersion: PROTOCOL_VERSION,
      agentCapabilities: { loadSession: false, mcpCapabilities: { http: true, sse: false } },
      agentInfo: AGENT_INFO,
    }))
    .onRequest(methods.agent.session.new, async ({ params }) => {
      const setup = sessionSetup(params);
      let opened: Awaited<ReturnType<typeof BuiltinSession.open>>;
      try {
        opened = await BuiltinSession.open(setup);
      } catch (error) {
        throw new RequestError(INVALID_PARAMS, errorMessage(error));
      }
      const sessionId = randomUUID();
      sessions.set(sessionId, opened.session);
      // Reported in the response rather than as updates: the client attaches its update routing
      // to the session only once it has the session id.
      return { sessionId, _meta: { sam: { errors: opened.errors } } };
    })
    .onRequest(methods.agent.session.prompt, async ({ params, client, signal }) => {
      const session = sessions.get(params.sessionId);
      if (!session) throw RequestError.sessionNotFound(params.sessionId);
      try {
        const stopReason = await session.prompt(
          promptText(params.prompt),
          (update) => client.notify(methods.client.session.update, { sessionId: params.sessionId, update }),
          signal,
        );
        return { stopReason };
      } catch (error) {
        throw new RequestError(INTERNAL_ERROR, errorMessage(error));
      }
    })
    .onNotification(methods.agent.session.cancel, ({ params }) => {
      sessions.get(params.sessionId)?.cancel();
    });

  const connection = app.connect(stream);
  const closed = connection.closed.then(async () => {
    await Promise.all([...sessions.values()].map((session) => session.close()));
    sessions.clear();
  });
  return { closed, close: () => connection.close() };
}
