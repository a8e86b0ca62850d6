/**
 * What the daemon's session manager needs from a harness. A harness is an ACP agent; the daemon is
 * its ACP client. `startHarness` (harness/start.ts) hides whether it runs in-process or as a
 * subprocess over stdio.
 */
import type { AgentEventPayload, HarnessKind } from "../contract.ts";

/** The events a harness reports while it works; the session manager adds the lifecycle ones. */
export type HarnessEvent = Extract<
  AgentEventPayload,
  { type: "agent_text" | "agent_thought" | "tool_call" | "tool_result" | "agent_error" | "usage" | "plan" }
>;

export type StopReason = "end_turn" | "cancelled" | "max_turn_requests" | "max_tokens" | "refusal" | "error";

export interface HarnessOptions {
  kind: HarnessKind;
  /** For kind `acp`: the custom agent's command. */
  agentCommand?: string;
  /**
   * The ACP auth method the client calls `authenticate` with before `session/new`, for an agent
   * that requires it (Qwen Code: `openai`, with its key and base URL in its settings).
   */
  authMethod?: string;
  /** How the agent's permission requests are answered (default `allow`). */
  permissionPolicy?: "allow" | "deny";
  /** The workspace: every file tool and the shell are confined to it. */
  cwd: string;
  mode: "task" | "conversation";
  /** `scripted` or `provider:model`. */
  model: string;
  modelApiKey?: string;
  modelBaseUrl?: string;
  /** The web app's MCP endpoint and the task token the agent presents to it. */
  mcpUrl: string;
  taskToken: string;
  /** What the sandbox may reach (default `open`); with `none`, only the MCP endpoint. */
  network?: "open" | "none";
  /** The workspace `cwd` belongs to, whose sandbox home and tmp the session gets. */
  workspaceId?: string;
  onEvent: (event: HarnessEvent) => void;
  /** Called once if the harness dies without being closed (a crashed subprocess). */
  onCrash: (reason: string) => void;
  /** Called when the model server could not be reached several times in a row (see key-proxy.ts). */
  onModelUnreachable?: (reason: string) => void;
  /** Aborted when the session ends before the harness has started: its process is ended and the start rejects. */
  signal?: AbortSignal;
}

export interface HarnessSession {
  /** Runs one turn with a user-role message; resolves when the agent ends the turn. */
  prompt(text: string): Promise<StopReason>;
  /** Cancels the current turn, if any; the pending prompt resolves with `cancelled`. */
  cancel(): Promise<void>;
  /** Ends the harness (and its process); no crash is reported for it. */
  close(): Promise<void>;
}
