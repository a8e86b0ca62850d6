/**
 * One ACP session of the built-in agent: its model, its tools and the conversation, which
 * persists across turns so every prompt continues what came before.
 */
import fs from "node:fs/promises";
import type { SessionUpdate, StopReason } from "@agentclientprotocol/sdk";
import type { Usage } from "@agentclientprotocol/sdk/unstable";
import type { ModelMessage, ToolSet } from "ai";
import { SAM_MCP_SERVER_NAME, type SamSessionMeta } from "../session-meta.ts";
import { describeModelError, errorMessage } from "./errors.ts";
import { runTurn } from "./loop.ts";
import { connectMcpTools, type McpServerSettings, type McpTools, serverLocation } from "./mcp-tools.ts";
import type { LanguageModelV3 } from "./model-spec.ts";
import { resolveModel } from "./models.ts";
import { systemPrompt } from "./system-prompt.ts";
import { fileTools } from "./tools/files.ts";
import { shellTool } from "./tools/shell.ts";

export interface SessionSetup {
  cwd: string;
  meta: SamSessionMeta;
  mcpServers: Array<McpServerSettings & { name: string }>;
}

/** A turn that failed, worded for the user, with the usage of the model calls it made. */
export class TurnError extends Error {
  constructor(
    message: string,
    readonly usage: Usage,
  ) {
    super(message);
  }
}

export class BuiltinSession {
  private readonly history: ModelMessage[] = [];
  private turn: AbortController | undefined;

  private constructor(
    private readonly model: LanguageModelV3,
    private readonly system: string,
    private readonly tools: ToolSet,
    private readonly mcp: McpTools[],
    private readonly baseUrl: string | undefined,
  ) {}

  /**
   * Opens a session. A wrong model or workspace throws; an MCP server that cannot be reached does
   * not (the local tools still work) and comes back in `errors` for the client to report.
   */
  static async open(setup: SessionSetup): Promise<{ session: BuiltinSession; errors: string[] }> {
    const model = resolveModel({
      model: setup.meta.model,
      apiKey: setup.meta.modelApiKey,
      baseUrl: setup.meta.modelBaseUrl,
    });
    const root = await fs.realpath(setup.cwd);
    if (!(await fs.stat(root)).isDirectory()) throw new Error(`workspace ${setup.cwd} is not a directory`);

    const errors: string[] = [];
    const mcp: McpTools[] = [];
    for (const server of setup.mcpServers) {
      try {
        mcp.push(await connectMcpTools(server));
      } catch (error) {
        errors.push(
          `MCP server "${server.name}" ${serverLocation(server)} cannot be used, so its tools are unavailable: ${errorMessage(error)}`,
        );
      }
    }
    // Built-in tools come last so an MCP tool of the same name cannot replace one.
    const tools: ToolSet = Object.assign({}, ...mcp.map((m) => m.tools), shellTool(root), fileTools(root));
    const withSam = setup.mcpServers.some((server) => server.name === SAM_MCP_SERVER_NAME);
    const system = systemPrompt(setup.meta.mode, root, withSam);
    return { session: new BuiltinSession(model, system, tools, mcp, setup.meta.modelBaseUrl), errors };
  }

  /**
   * Runs one turn. Resolves with the stop reason (`cancelled` after `cancel()` or when `signal`
   * aborts) and the turn's usage; throws a `TurnError` if the turn failed (the model or the
   * script raised an error).
   */
  async prompt(
    text: string,
    send: (update: SessionUpdate) => Promise<void>,
    signal: AbortSignal,
  ): Promise<{ stopReason: StopReason; usage: Usage }> {
    if (this.turn) throw new Error("a turn is already running in this session");
    const controller = new AbortController();
    this.turn = controller;
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const userMessage: ModelMessage = { role: "user", content: text };
    try {
      const outcome = await runTurn({
        model: this.model,
        system: this.system,
        tools: this.tools,
        messages: [...this.history, userMessage],
        signal: controller.signal,
        send,
      });
      this.history.push(userMessage, ...outcome.messages);
      if (!outcome.ok) throw new TurnError(describeModelError(outcome.error, this.baseUrl), outcome.usage);
      return { stopReason: outcome.stopReason, usage: outcome.usage };
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.turn = undefined;
    }
  }

  cancel(): void {
    this.turn?.abort();
  }

  async close(): Promise<void> {
    this.turn?.abort();
    await Promise.all(this.mcp.map((m) => m.close().catch(() => {})));
  }
}
