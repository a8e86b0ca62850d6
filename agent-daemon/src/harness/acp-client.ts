/**
 * The daemon's side of a harness: an ACP client over whatever stream the harness speaks on.
 * It opens one ACP session (the web app's MCP server with the task token, the model settings in
 * `_meta.sam`), turns the agent's session updates into `HarnessEvent`s, and watches the harness:
 * if it goes away without being closed, that is a crash and is reported once.
 */
import {
  type ActiveSession,
  client,
  methods,
  PROTOCOL_VERSION,
  RequestError,
  type SessionUpdate,
  type Stream,
} from "@agentclientprotocol/sdk";
import { z } from "zod";
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

// What the built-in agent adds to its session/new response; other agents send nothing there.
const newSessionMetaSchema = z.object({ sam: z.object({ errors: z.array(z.string()) }) });

/** The reason an agent gave for a failed request, without JSON-RPC's generic wording where it can. */
function describeAgentError(error: unknown): string {
  if (error instanceof RequestError) {
    const details = z.object({ details: z.string() }).safeParse(error.data);
    return details.success ? `${error.message}: ${details.data.details}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The events one session update stands for; `toolNames` remembers names for updates that omit them. */
function toEvents(update: SessionUpdate, toolNames: Map<string, string>): HarnessEvent[] {
  switch (update.sessionUpdate) {
    case "agent_message_chunk":
      return update.content.type === "text" ? [{ type: "agent_text", text: update.content.text }] : [];
    case "agent_thought_chunk":
      return update.content.type === "text" ? [{ type: "agent_thought", text: update.content.text }] : [];
    case "tool_call":
    case "tool_call_update": {
      const events: HarnessEvent[] = [];
      const name = update.name ?? toolNames.get(update.toolCallId) ?? update.title ?? "tool";
      if (update.sessionUpdate === "tool_call") {
        toolNames.set(update.toolCallId, name);
        events.push({ type: "tool_call", toolCallId: update.toolCallId, name, input: update.rawInput ?? null });
      }
      if (update.status === "completed" || update.status === "failed") {
        toolNames.delete(update.toolCallId);
        events.push({
          type: "tool_result",
          toolCallId: update.toolCallId,
          name,
          status: update.status,
          output: update.rawOutput ?? update.content ?? null,
        });
      }
      return events;
    }
    default:
      return [];
  }
}

/**
 * Opens the ACP session on `transport` and returns the harness session. If the harness cannot
 * start (it died, or refused the session: unknown model, missing key...), the transport is
 * terminated and this rejects with the reason.
 */
export async function connectHarness(transport: HarnessTransport, options: HarnessOptions): Promise<HarnessSession> {
  const connection = client({ name: CLIENT_INFO.name }).connect(transport.stream);
  let started = false;
  let closing = false;
  let crashed = false;
  let turnRunning = false;

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
  });

  const meta: SamSessionMeta = {
    model: options.model,
    mode: options.mode,
    ...(options.modelApiKey !== undefined ? { modelApiKey: options.modelApiKey } : {}),
    ...(options.modelBaseUrl !== undefined ? { modelBaseUrl: options.modelBaseUrl } : {}),
  };
  let session: ActiveSession;
  try {
    await connection.agent.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: {},
      clientInfo: CLIENT_INFO,
    });
    session = await connection.agent
      .buildSession({ cwd: options.cwd, mcpServers: [], _meta: { sam: meta } })
      .withMcpServer({
        type: "http",
        name: SAM_MCP_SERVER_NAME,
        url: options.mcpUrl,
        headers: [{ name: "Authorization", value: `Bearer ${options.taskToken}` }],
      })
      .start();
  } catch (error) {
    // A harness that died says why in its exit; one that refused says why in its answer.
    const reason = connection.signal.aborted ? await transport.ended : describeAgentError(error);
    closing = true;
    connection.close();
    await transport.terminate();
    throw new Error(`harness failed to start: ${reason}`);
  }
  started = true;
  const sessionMeta = newSessionMetaSchema.safeParse(session.meta);
  for (const message of sessionMeta.success ? sessionMeta.data.sam.errors : []) {
    options.onEvent({ type: "agent_error", message });
  }

  const toolNames = new Map<string, string>();
  return {
    async prompt(text: string): Promise<StopReason> {
      if (closing || connection.signal.aborted) throw new Error("the harness is closed");
      if (turnRunning) throw new Error("a turn is already running");
      turnRunning = true;
      try {
        void session.prompt(text);
        // The session queues updates in arrival order and the end of the turn after them, so
        // every event of the turn is delivered before the turn's result.
        for (;;) {
          const message = await session.nextUpdate();
          if (message.kind === "stop") return message.stopReason;
          for (const event of toEvents(message.update, toolNames)) options.onEvent(event);
        }
      } catch (error) {
        if (closing) return "cancelled";
        if (connection.signal.aborted) {
          // The harness went away mid-turn; once it has ended, onCrash has been called.
          await transport.ended;
          return "error";
        }
        options.onEvent({ type: "agent_error", message: describeAgentError(error) });
        return "error";
      } finally {
        turnRunning = false;
      }
    },

    async cancel(): Promise<void> {
      if (!turnRunning || connection.signal.aborted) return;
      await connection.agent.notify(methods.agent.session.cancel, { sessionId: session.sessionId });
    },

    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      session.dispose();
      connection.close();
      await transport.terminate();
    },
  };
}
