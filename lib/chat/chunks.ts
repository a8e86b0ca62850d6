import { type AgentEventPayload, agentEventPayloadSchema } from "@sam/agent-daemon/contract";
import type { UIMessage, UIMessageChunk } from "ai";
import type { MessageDelivery, MessageSender } from "../tasks/message-sender";
import type { StoredAgentEvent } from "../tasks/show-task";

export type PlanEntry = Extract<AgentEventPayload, { type: "plan" }>["entries"][number];

/** The data parts a chat message carries besides text, reasoning and tool calls. */
export type ChatDataParts = {
  agentError: { message: string };
  workSaved: { branch: string; commit: string; changed: boolean; pushed: boolean };
  finished: { outcome: "completed" | "failed"; reason?: string; branch?: string };
  /** The agent's plan as it stands; one part per reply, each update replacing it. */
  plan: { entries: PlanEntry[] };
  /** The tokens the reply's model turns used so far; one part per reply. */
  usage: { inputTokens: number; outputTokens: number; cachedTokens: number };
  /** The seq of the last stored event a stream has passed on (transient: never part of a message). */
  seq: { seq: number };
  /** The session a message went to; a new chat learns its session from it (transient). */
  session: { sessionId: string; taskId: string };
};

export interface ChatMessageMetadata {
  /** The seq of the stored event this message starts at. */
  seq: number;
  /** How a message to the agent came: typed to the session, the task's own prompt, from the parent or SAM. */
  author?: "user" | "task" | "parent" | "system";
  /** Who sent a message to the agent. */
  sender?: MessageSender;
  /** The inbox message it was (the `messageId` of its event), if it came through the inbox. */
  messageId?: string;
  delivery?: MessageDelivery;
}

export type ChatMessage = UIMessage<ChatMessageMetadata, ChatDataParts>;
export type ChatChunk = UIMessageChunk<ChatMessageMetadata, ChatDataParts>;

/** A stored event with its payload checked; events this version does not know are left out. */
export interface ChatEvent {
  seq: number;
  event: AgentEventPayload;
}

export function toChatEvent(stored: StoredAgentEvent): ChatEvent | undefined {
  const parsed = agentEventPayloadSchema.safeParse(stored.payload);
  return parsed.success ? { seq: stored.seq, event: parsed.data } : undefined;
}

/** The id of the agent's reply to the turn that starts at `seq`: the same on every stream and reload. */
export function replyMessageId(sessionId: string, turnStartSeq: number): string {
  return `${sessionId}:reply:${turnStartSeq}`;
}

export function userMessageId(sessionId: string, seq: number): string {
  return `${sessionId}:user:${seq}`;
}

/**
 * Turns one turn's stored events into the chunks of its reply message, in order. Both the live
 * stream and the transcript rendered with the page are made from these chunks, so a reload shows
 * exactly what the stream showed.
 */
export class ReplyChunker {
  private textId: string | undefined;
  private reasoningId: string | undefined;
  private readonly calls = new Set<string>();
  private readonly usage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };

  constructor(
    private readonly sessionId: string,
    private readonly turnStartSeq: number,
  ) {}

  start(): ChatChunk[] {
    return [
      {
        type: "start",
        messageId: replyMessageId(this.sessionId, this.turnStartSeq),
        messageMetadata: { seq: this.turnStartSeq },
      },
    ];
  }

  /** The chunks of one event of the turn. Messages to the agent are messages of their own, not part of the reply. */
  push({ seq, event }: ChatEvent): ChatChunk[] {
    const out: ChatChunk[] = [];
    switch (event.type) {
      case "agent_text":
        this.closeReasoning(out);
        if (!this.textId) {
          this.textId = `text-${seq}`;
          out.push({ type: "text-start", id: this.textId });
        }
        out.push({ type: "text-delta", id: this.textId, delta: event.text });
        break;
      case "agent_thought":
        this.closeText(out);
        if (!this.reasoningId) {
          this.reasoningId = `reasoning-${seq}`;
          out.push({ type: "reasoning-start", id: this.reasoningId });
        }
        out.push({ type: "reasoning-delta", id: this.reasoningId, delta: event.text });
        break;
      case "tool_call":
        this.closeAll(out);
        this.calls.add(event.toolCallId);
        out.push({
          type: "tool-input-available",
          toolCallId: event.toolCallId,
          toolName: event.name,
          input: event.input ?? {},
          dynamic: true,
        });
        break;
      case "tool_result":
        this.closeAll(out);
        // A result whose call is not in this turn still gets a card.
        if (!this.calls.has(event.toolCallId)) {
          this.calls.add(event.toolCallId);
          out.push({
            type: "tool-input-available",
            toolCallId: event.toolCallId,
            toolName: event.name,
            input: {},
            dynamic: true,
          });
        }
        out.push(
          event.status === "completed"
            ? {
                type: "tool-output-available",
                toolCallId: event.toolCallId,
                output: event.output ?? null,
                dynamic: true,
              }
            : {
                type: "tool-output-error",
                toolCallId: event.toolCallId,
                errorText: errorTextOf(event.output),
                dynamic: true,
              },
        );
        break;
      case "user_message":
        this.closeAll(out);
        break;
      case "agent_error":
        this.closeAll(out);
        out.push({ type: "data-agentError", id: `error-${seq}`, data: { message: event.message } });
        break;
      case "work_saved":
        this.closeAll(out);
        out.push({
          type: "data-workSaved",
          id: `saved-${seq}`,
          // An older daemon's event has no `changed`: it always pushed.
          data: { branch: event.branch, commit: event.commit, changed: event.changed ?? true, pushed: event.pushed },
        });
        break;
      case "session_finished":
        this.closeAll(out);
        out.push({
          type: "data-finished",
          id: `finished-${seq}`,
          data: { outcome: event.outcome, reason: event.reason, branch: event.branch },
        });
        break;
      case "plan":
        this.closeAll(out);
        // One id per reply: the AI SDK replaces a data part of the same id, so the latest plan stands.
        out.push({ type: "data-plan", id: "plan", data: { entries: event.entries } });
        break;
      case "usage":
        // Not a message: the reply's running total, shown small under it.
        this.usage.inputTokens += event.inputTokens;
        this.usage.outputTokens += event.outputTokens;
        this.usage.cachedTokens += event.cachedTokens;
        out.push({ type: "data-usage", id: "usage", data: { ...this.usage } });
        break;
      case "turn_ended":
      case "session_started":
        this.closeAll(out);
        break;
    }
    return out;
  }

  finish(): ChatChunk[] {
    const out: ChatChunk[] = [];
    this.closeAll(out);
    out.push({ type: "finish" });
    return out;
  }

  private closeText(out: ChatChunk[]) {
    if (this.textId) out.push({ type: "text-end", id: this.textId });
    this.textId = undefined;
  }

  private closeReasoning(out: ChatChunk[]) {
    if (this.reasoningId) out.push({ type: "reasoning-end", id: this.reasoningId });
    this.reasoningId = undefined;
  }

  private closeAll(out: ChatChunk[]) {
    this.closeText(out);
    this.closeReasoning(out);
  }
}

/** The readable error of a failed tool call (MCP errors come as content blocks). */
function errorTextOf(output: unknown): string {
  if (typeof output === "string") return output;
  const content = (output as { content?: { type?: string; text?: string }[] } | null)?.content;
  if (Array.isArray(content)) {
    const text = content
      .filter((c) => c?.type === "text" && typeof c.text === "string")
      .map((c) => c.text)
      .join("\n");
    if (text) return text;
  }
  return JSON.stringify(output) ?? "the tool failed";
}
