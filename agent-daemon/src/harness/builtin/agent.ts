/**
 * The built-in agent's ACP side: initialize, session/new, session/prompt and session/cancel over
 * any ACP stream — in-memory for the in-process harness, stdio for the subprocess one and for any
 * ACP client (an editor such as Zed).
 *
 * Inside SAM the daemon sends the model and its key in `session/new`'s `_meta.sam`, and that is
 * the only place a key comes from. Another client sends no `_meta`: the session then uses the
 * defaults the agent was started with (`--model`, the provider's key variable; see stdio-main.ts).
 *
 * A turn that fails (the model threw, a malformed script) is answered with a JSON-RPC error
 * carrying the reason, worded for the user, and the usage of the model calls it made in its
 * data: ACP's stop reasons have no "error", and an error response is what any ACP client
 * understands as a failed prompt. The session stays usable for the next prompt. A turn's usage
 * is in the prompt response's (unstable) `usage`.
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
import { type SamSessionMeta, samSessionMetaSchema } from "../session-meta.ts";
import { errorMessage } from "./errors.ts";
import { BuiltinSession, type SessionSetup, TurnError } from "./session.ts";

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

function sessionSetup(params: NewSessionRequest, defaults: SamSessionMeta | undefined): SessionSetup {
  let meta: SamSessionMeta;
  if (params._meta?.sam === undefined && !defaults) {
    throw new RequestError(
      INVALID_PARAMS,
      "no model: start the agent with --model provider:model (or set SAM_MODEL), or send _meta.sam",
    );
  }
  if (params._meta?.sam !== undefined || !defaults) {
    const parsed = samSessionMetaSchema.safeParse(params._meta?.sam);
    if (!parsed.success) {
      throw new RequestError(INVALID_PARAMS, `session/new _meta.sam is invalid: ${z.prettifyError(parsed.error)}`);
    }
    meta = parsed.data;
  } else {
    meta = defaults;
  }
  const mcpServers: SessionSetup["mcpServers"] = [];
  for (const server of params.mcpServers) {
    const pairs = (list: Array<{ name: string; value: string }>) =>
      Object.fromEntries(list.map((p) => [p.name, p.value]));
    if ("type" in server && server.type === "http") {
      mcpServers.push({ type: "http", name: server.name, url: server.url, headers: pairs(server.headers) });
    } else if ("command" in server) {
      // Stdio servers have no `type` in ACP (some clients send "stdio").
      const { name, command, args, env } = server;
      mcpServers.push({ type: "stdio", name, command, args, env: pairs(env), cwd: params.cwd });
    } else {
      throw new RequestError(
        INVALID_PARAMS,
        `MCP server "${server.name}": ${server.type} MCP servers are not supported`,
      );
    }
  }
  return { cwd: params.cwd, meta, mcpServers };
}

/**
 * Serves the built-in agent on `stream` until the connection closes; then its sessions are closed.
 * `defaults` (the standalone agent's model settings) serve sessions opened without `_meta.sam`;
 * without them `_meta.sam` is required.
 */
export function serveBuiltinAgent(stream: Stream, defaults?: SamSessionMeta): { closed: Promise<void>; close(): void } {
  const sessions = new Map<string, BuiltinSession>();

  const app = agent({ name: AGENT_INFO.name })
    .onRequest(methods.agent.initialize, () => ({
      protocolVersion: PROTOCOL_VERSION,
      agentCapabilities: { loadSession: false, mcpCapabilities: { http: true, sse: false } },
      authMethods: [],
      agentInfo: AGENT_INFO,
    }))
    .onRequest(methods.agent.session.new, async ({ params }) => {
      const setup = sessionSetup(params, defaults);
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
        return await session.prompt(
          promptText(params.prompt),
          (update) => client.notify(methods.client.session.update, { sessionId: params.sessionId, update }),
          signal,
        );
      } catch (error) {
        throw new RequestError(
          INTERNAL_ERROR,
          errorMessage(error),
          error instanceof TurnError ? { usage: error.usage } : undefined,
        );
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
