/**
 * The daemon's side of a harness: an ACP client over whatever stream the harness speaks on.
 * It opens one ACP session (the web app's MCP server with the task token; for the built-in agent
 * the model settings in `_meta.sam`), turns the agent's session updates into `HarnessEvent`s,
 * answers its permission requests by the project's policy, and watches the harness: if it goes
 * away without being closed, that is a crash and is reported once.
 */
import {
  client,
  type McpServer,
  methods,
  type PermissionOption,
  PROTOCOL_VERSION,
  RequestError,
  type RequestPermissionResponse,
  type SessionUpdate,
  type Stream,
} from "@agentclientprotocol/sdk";
import { z } from "zod";
import { ToolCallTracker } from "./acp-tool-calls.ts";
import { UsageMeter } from "./acp-usage.ts";
import { SAM_MCP_SERVER_NAME, type SamSessionMeta } from "./session-meta.ts";
import type { HarnessEvent, HarnessOptions, HarnessSession, StopReason } from "./types.ts";

/** How the harness runs: the stream to speak ACP on and the agent side's lifetime. */
export interface HarnessTransport {
  stream: Stream;
  /** Resolves, with a reason fit for a failure message, once the agent side has ended. */
  ended: Promise<string>;
  /** Ends the agent side (its process, if it has one) and waits until it is gone. */
  terminate(): Promise<void>;
}

const CLIENT_INFO = { name: "sam-daemon", version: "0.1.0" };
// The harness kinds that are SAM's own agent, the only ones given the model settings in `_meta.sam`.
const BUILTIN_KINDS = new Set(["builtin", "builtin-subprocess"]);
// How long a cancelled turn may go on before the client ends it without the agent.
export const CANCEL_GRACE_MS = 3000;

// What the built-in agent adds to its session/new response; other agents send nothing there.
const newSessionMetaSchema = z.object({ sam: z.object({ errors: z.array(z.string()) }) });
// The unstable `usage` of a prompt response, read by the usage meter; and a failed turn's usage,
// which the built-in agent puts in its error's data.
const promptResponseSchema = z.object({ usage: z.unknown().optional() });
const errorUsageSchema = z.object({ usage: z.unknown() });
const initializeResponseSchema = z.object({ authMethods: z.array(z.object({ id: z.string() })).nullish() });

/** The reason an agent gave for a failed request, without JSON-RPC's generic wording where it can. */
function describeAgentError(error: unknown): string {
  if (error instanceof RequestError) {
    const details = z.object({ details: z.string() }).safeParse(error.data);
    return details.success ? `${error.message}: ${details.data.details}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The answer to a permission request under `policy`: a one-time allow or reject where the agent
 * offers one (an "always" choice could be written into the agent's settings in the workspace).
 */
export function answerPermission(options: PermissionOption[], policy: "allow" | "deny"): RequestPermissionResponse {
  const kinds = policy === "allow" ? ["allow_once", "allow_always"] : ["reject_once", "reject_always"];
  for (const kind of kinds) {
    const option = options.find((o) => o.kind === kind);
    if (option) return { outcome: { outcome: "selected", optionId: option.optionId } };
  }
  return { outcome: { outcome: "cancelled" } };
}

/** One prompt turn as the client sees it. */
interface Turn {
  done: Promise<StopReason>;
  finish(stopReason: StopReason): void;
  /** Ended by the client (a cancel the agent ignored) before the agent answered. */
  abandoned: boolean;
}

function newTurn(): Turn {
  let finish!: (stopReason: StopReason) => void;
  const done = new Promise<StopReason>((resolve) => {
    finish = resolve;
  });
  return { done, finish, abandoned: false };
}

/**
 * Opens the ACP session on `transport` and returns the harness session. If the harness cannot
 * start (it died, or refused the session: unknown model, missing key...), the transport is
 * terminated and this rejects with the reason.
 */
export async function connectHarness(transport: HarnessTransport, options: HarnessOptions): Promise<HarnessSession> {
  const policy = options.permissionPolicy ?? "allow";
  const tools = new ToolCallTracker();
  const usage = new UsageMeter();
  let sessionId: string | undefined;
  let turn: Turn | undefined;
  // A turn the client ended (its cancel ignored) may still send updates; they are dropped until
  // the agent answers its prompt or the next prompt starts.
  let dropUpdates = false;
  let started = false;
  let closing = false;
  let crashed = false;

  const emit = (events: Array<HarnessEvent | undefined>) => {
    for (const event of events) if (event) options.onEvent(event);
  };

  const onUpdate = (update: SessionUpdate) => {
    if (dropUpdates) return;
    switch (update.sessionUpdate) {
      case "agent_message_chunk":
        emit([usage.callReport(update._meta)]);
        if (update.content.type === "text" && update.content.text) {
          emit([{ type: "agent_text", text: update.content.text }]);
        }
        return;
      case "agent_thought_chunk":
        if (update.content.type === "text" && update.content.text) {
          emit([{ type: "agent_thought", text: update.content.text }]);
        }
        return;
      case "tool_call":
      case "tool_call_update":
        emit(tools.update(update, update.sessionUpdate));
        return;
      case "plan":
        emit([
          {
            type: "plan",
            entries: update.entries.map(({ content, status, priority }) => ({ content, status, priority })),
          },
        ]);
        return;
      case "usage_update":
        usage.costUpdate(update.cost);
        return;
      default:
        return;
    }
  };

  // Updates are handled as they arrive (synchronously, so in order, and before the response of
  // the prompt they belong to); permission requests are answered at once, never left hanging.
  const connection = client({ name: CLIENT_INFO.name })
    .onNotification(methods.client.session.update, ({ params }) => {
      if (params.sessionId === sessionId) onUpdate(params.update);
    })
    .onRequest(methods.client.session.requestPermission, ({ params }) => {
      // The call a permission is asked for may carry its input only here (Qwen Code's streamed calls).
      if (params.sessionId === sessionId && !dropUpdates) emit(tools.update(params.toolCall, "tool_call_update"));
      return answerPermission(params.options, policy);
    })
    .connect(transport.stream);

  // A session that ends while its harness starts takes the harness down with it.
  const abandon = () => void transport.terminate();
  if (options.signal?.aborted) abandon();
  else options.signal?.addEventListener("abort", abandon, { once: true });

  void transport.ended.then((reason) => {
    connection.close(new Error(reason));
    if (started && !closing && !crashed) {
      crashed = true;
      options.onCrash(reason);
    }
  });
  // A connection that breaks while the harness lives (garbage on its stdout, say) is as fatal as a
  // crash: end the harness, and its end is reported like any other.
  void connection.closed.then(() => {
    if (!closing) void transport.terminate();
    turn?.finish(closing ? "cancelled" : "error");
  });

  const samServer: McpServer = {
    type: "http",
    name: SAM_MCP_SERVER_NAME,
    url: options.mcpUrl,
    headers: [{ name: "Authorization", value: `Bearer ${options.taskToken}` }],
  };
  // The model key goes to SAM's own agent only: an external agent reaches the model its own way.
  const meta: { sam: SamSessionMeta } | undefined = BUILTIN_KINDS.has(options.kind)
    ? {
        sam: {
          model: options.model,
          mode: options.mode,
          ...(options.modelApiKey !== undefined ? { modelApiKey: options.modelApiKey } : {}),
          ...(options.modelBaseUrl !== undefined ? { modelBaseUrl: options.modelBaseUrl } : {}),
        },
      }
    : undefined;
  try {
    const init = await connection.agent.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      // Honest: SAM offers the agent no file system or terminal of its own; it has its sandbox.
      clientCapabilities: {},
      clientInfo: CLIENT_INFO,
    });
    if (options.authMethod !== undefined) {
      const listed = initializeResponseSchema.safeParse(init);
      const offered = (listed.success ? (listed.data.authMethods ?? []) : []).map((method) => method.id);
      if (!offered.includes(options.authMethod)) {
        throw new Error(
          `the agent does not offer the auth method "${options.authMethod}" (it offers: ${offered.join(", ") || "none"})`,
        );
      }
      await connection.agent.request(methods.agent.authenticate, { methodId: options.authMethod });
    }
    const created = await connection.agent.request(methods.agent.session.new, {
      cwd: options.cwd,
      mcpServers: [samServer],
      ...(meta ? { _meta: meta } : {}),
    });
    sessionId = created.sessionId;
    const sessionMeta = newSessionMetaSchema.safeParse(created._meta);
    for (const message of sessionMeta.success ? sessionMeta.data.sam.errors : []) {
      options.onEvent({ type: "agent_error", message });
    }
  } catch (error) {
    options.signal?.removeEventListener("abort", abandon);
    // A harness that died says why in its exit; one that refused says why in its answer.
    const reason = connection.signal.aborted ? await transport.ended : describeAgentError(error);
    closing = true;
    connection.close();
    await transport.terminate();
    throw new Error(`harness failed to start: ${reason}`);
  }
  options.signal?.removeEventListener("abort", abandon);
  started = true;
  const session = sessionId;

  /** The end of a turn the agent answered: calls it left open and the turn's usage are recorded. */
  const ended = (current: Turn, stopReason: StopReason, turnUsage: unknown) => {
    if (current.abandoned) {
      dropUpdates = false;
      return;
    }
    emit([...tools.flush(), usage.turnEnded(turnUsage)]);
    current.finish(stopReason);
  };

  return {
    async prompt(text: string): Promise<StopReason> {
      if (closing || connection.signal.aborted) throw new Error("the harness is closed");
      if (turn) throw new Error("a turn is already running");
      const current = newTurn();
      turn = current;
      dropUpdates = false;
      usage.turnStarted();
      connection.agent
        .request(methods.agent.session.prompt, { sessionId: session, prompt: [{ type: "text", text }] })
        .then(
          (response) => {
            const parsed = promptResponseSchema.safeParse(response);
            ended(current, response.stopReason, parsed.success ? parsed.data.usage : undefined);
          },
          (error: unknown) => {
            if (connection.signal.aborted) return;
            const data = error instanceof RequestError ? errorUsageSchema.safeParse(error.data) : undefined;
            if (!current.abandoned) options.onEvent({ type: "agent_error", message: describeAgentError(error) });
            ended(current, "error", data?.success ? data.data.usage : undefined);
          },
        );
      try {
        const stopReason = await current.done;
        // The harness went away mid-turn; once it has ended, onCrash has been called.
        if (stopReason === "error" && connection.signal.aborted && !closing) await transport.ended;
        return stopReason;
      } finally {
        if (turn === current) turn = undefined;
      }
    },

    async cancel(): Promise<void> {
      const current = turn;
      if (!current || connection.signal.aborted) return;
      await connection.agent.notify(methods.agent.session.cancel, { sessionId: session });
      // An agent that ignores the cancel does not keep the session's turn running.
      const timer = setTimeout(() => {
        current.abandoned = true;
        dropUpdates = true;
        emit(tools.flush());
        current.finish("cancelled");
      }, CANCEL_GRACE_MS);
      void current.done.then(() => clearTimeout(timer));
    },

    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      turn?.finish("cancelled");
      connection.close();
      await transport.terminate();
    },
  };
}
