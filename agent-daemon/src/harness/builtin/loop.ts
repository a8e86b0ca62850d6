/**
 * One turn of the built-in agent: the AI SDK tool loop over the conversation so far, with every
 * text chunk, tool call and tool result reported to the ACP client as it happens.
 */
import type { SessionUpdate, StopReason, ToolCallContent, ToolKind } from "@agentclientprotocol/sdk";
import type { Usage } from "@agentclientprotocol/sdk/unstable";
import {
  type FinishReason,
  type LanguageModelUsage,
  type ModelMessage,
  stepCountIs,
  streamText,
  type ToolSet,
} from "ai";
import { errorMessage } from "./errors.ts";
import type { LanguageModelV3 } from "./model-spec.ts";

// Model calls per turn; a turn that is still calling tools after this many ends with max_turn_requests.
const MAX_STEPS = 50;

const TOOL_KINDS: Record<string, ToolKind> = {
  shell: "execute",
  read_file: "read",
  write_file: "edit",
  edit_file: "edit",
  list_files: "search",
  search_files: "search",
};

export interface TurnInput {
  model: LanguageModelV3;
  system: string;
  tools: ToolSet;
  /** The conversation so far, ending with this turn's user message. */
  messages: ModelMessage[];
  signal: AbortSignal;
  /** Sends one session/update; awaited, so updates reach the client in order. */
  send: (update: SessionUpdate) => Promise<void>;
}

export type TurnOutcome =
  | { ok: true; stopReason: StopReason; messages: ModelMessage[]; usage: Usage }
  | { ok: false; error: unknown; messages: ModelMessage[]; usage: Usage };

/**
 * A turn's token usage in ACP's form: disjoint buckets (`totalTokens` is their sum), so the AI
 * SDK's input, which includes the cached part, and its output, which includes reasoning, are split.
 */
export function acpUsage(steps: LanguageModelUsage[]): Usage {
  let input = 0;
  let cacheRead = 0;
  let cacheWrite = 0;
  let output = 0;
  let reasoning = 0;
  for (const usage of steps) {
    input += usage.inputTokens ?? 0;
    cacheRead += usage.inputTokenDetails?.cacheReadTokens ?? 0;
    cacheWrite += usage.inputTokenDetails?.cacheWriteTokens ?? 0;
    output += usage.outputTokens ?? 0;
    reasoning += usage.outputTokenDetails?.reasoningTokens ?? 0;
  }
  const inputTokens = Math.max(0, input - cacheRead - cacheWrite);
  const outputTokens = Math.max(0, output - reasoning);
  return {
    inputTokens,
    outputTokens,
    thoughtTokens: reasoning,
    cachedReadTokens: cacheRead,
    cachedWriteTokens: cacheWrite,
    totalTokens: inputTokens + outputTokens + reasoning + cacheRead + cacheWrite,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A tool's output as text, for clients that show `content` (an editor) rather than `rawOutput`. */
export function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  if (isRecord(output)) {
    // An MCP result: its text blocks.
    if (Array.isArray(output.content)) {
      return output.content
        .map((block: unknown) =>
          isRecord(block) && typeof block.text === "string"
            ? block.text
            : `[${String(isRecord(block) ? block.type : block)}]`,
        )
        .join("\n");
    }
    // The shell: what it printed, and how it ended when that was not a success.
    if (typeof output.stdout === "string" && typeof output.stderr === "string") {
      const parts = [output.stdout, output.stderr ? `stderr:\n${output.stderr}` : ""];
      if (output.exitCode !== 0)
        parts.push(`exit code ${String(output.exitCode)}${output.timedOut ? " (timed out)" : ""}`);
      return parts.filter((part) => part.length > 0).join("\n");
    }
    // read_file: the file.
    if (typeof output.content === "string") return output.content;
  }
  return JSON.stringify(output, null, 2) ?? String(output);
}

function textContent(text: string): ToolCallContent[] {
  return [{ type: "content", content: { type: "text", text } }];
}

/** A tool result that reports its own failure: MCP's `isError`, which the shell tool uses too. */
function isFailedOutput(output: unknown): boolean {
  return typeof output === "object" && output !== null && "isError" in output && output.isError === true;
}

function stopReasonFor(finishReason: FinishReason | undefined): StopReason {
  switch (finishReason) {
    case "length":
      return "max_tokens";
    case "content-filter":
      return "refusal";
    case "tool-calls":
      return "max_turn_requests";
    default:
      return "end_turn";
  }
}

/**
 * Runs the turn to its end. Failures (the model threw, a malformed script) come back as an
 * outcome rather than an exception so the caller still gets the messages of the steps that
 * completed and can keep the conversation consistent.
 */
export async function runTurn({ model, system, tools, messages, signal, send }: TurnInput): Promise<TurnOutcome> {
  // The response messages of the completed steps; a step cut short by cancel or error leaves none.
  let responseMessages: ModelMessage[] = [];
  let failure: { error: unknown } | undefined;
  let finishReason: FinishReason | undefined;
  const openCalls = new Set<string>();
  // The turn's usage is the sum of its completed steps' (what `totalUsage` adds up, also when a
  // cancel or an error cuts the turn short).
  const stepUsage: LanguageModelUsage[] = [];

  const result = streamText({
    model,
    system,
    messages,
    tools,
    abortSignal: signal,
    stopWhen: stepCountIs(MAX_STEPS),
    onStepFinish: (step) => {
      responseMessages = step.response.messages;
      stepUsage.push(step.usage);
    },
    // Errors are read from the stream below; this only stops the SDK from logging them to the console.
    onError: () => {},
  });

  try {
    for await (const part of result.fullStream) {
      switch (part.type) {
        case "text-delta":
          await send({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: part.text } });
          break;
        case "reasoning-delta":
          await send({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: part.text } });
          break;
        case "tool-call":
          openCalls.add(part.toolCallId);
          await send({
            sessionUpdate: "tool_call",
            toolCallId: part.toolCallId,
            title: part.toolName,
            name: part.toolName,
            kind: TOOL_KINDS[part.toolName] ?? "other",
            status: "in_progress",
            rawInput: part.input,
          });
          break;
        case "tool-result":
          if (part.preliminary) break;
          openCalls.delete(part.toolCallId);
          await send({
            sessionUpdate: "tool_call_update",
            toolCallId: part.toolCallId,
            status: isFailedOutput(part.output) ? "failed" : "completed",
            content: textContent(outputText(part.output)),
            rawOutput: part.output,
          });
          break;
        case "tool-error":
          openCalls.delete(part.toolCallId);
          await send({
            sessionUpdate: "tool_call_update",
            toolCallId: part.toolCallId,
            status: "failed",
            content: textContent(errorMessage(part.error)),
            rawOutput: { error: errorMessage(part.error) },
          });
          break;
        case "error":
          failure ??= { error: part.error };
          break;
        case "finish":
          finishReason = part.finishReason;
          break;
      }
    }
  } catch (error) {
    failure ??= { error };
  }

  if (signal.aborted) {
    // Tool calls the cancel interrupted are closed, so no call is left looking as if it still ran.
    for (const toolCallId of openCalls) {
      await send({
        sessionUpdate: "tool_call_update",
        toolCallId,
        status: "failed",
        content: textContent("cancelled"),
        rawOutput: { error: "cancelled" },
      });
    }
    return { ok: true, stopReason: "cancelled", messages: responseMessages, usage: acpUsage(stepUsage) };
  }
  const usage = acpUsage(stepUsage);
  if (failure) return { ok: false, error: failure.error, messages: responseMessages, usage };
  return { ok: true, stopReason: stopReasonFor(finishReason), messages: responseMessages, usage };
}
