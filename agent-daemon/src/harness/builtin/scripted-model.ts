/**
 * The `scripted` model: an AI SDK language model that needs no network. It plays the sam-script in
 * the latest user message through the real agent loop — what to say, which tools to call — and
 * the loop executes the tools and feeds their results back, exactly as with a real model.
 *
 * It keeps no state: where it is in the script follows from the prompt itself (one model call per
 * assistant message since the latest user message), so the same prompt always gets the same answer.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Content, FinishReason, LanguageModelV3, Prompt, StreamPart, Usage } from "./model-spec.ts";
import { findScript, parseScript, ScriptError, type Utterance } from "./script.ts";

export const OFFLINE_DEMO_MESSAGE =
  "I am SAM's offline demo model (`scripted`): I can only play the steps of a ```sam-script block, so I cannot work on this request. " +
  "To use a real model, set the project's model to `anthropic:<model>`, `openai:<model>` or `openai-compatible:<model>` " +
  "and store the provider's API key as a project secret.";

interface PlannedCall {
  utterances: Utterance[];
  toolCalls: Array<{ toolCallId: string; toolName: string; input: string }>;
  finishReason: FinishReason;
}

// The scripted model neither reads nor writes tokens.
const NO_USAGE: Usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

function stop(utterances: Utterance[]): PlannedCall {
  return { utterances, toolCalls: [], finishReason: { unified: "stop", raw: "stop" } };
}

/** What this call of the model returns; throws a `ScriptError` if the script is malformed. */
function plan(prompt: Prompt): PlannedCall {
  const latestUser = prompt.findLastIndex((message) => message.role === "user");
  const message = prompt[latestUser];
  if (message?.role !== "user") return stop([{ say: OFFLINE_DEMO_MESSAGE }]);
  const text = message.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
  const body = findScript(text);
  if (body === undefined) return stop([{ say: OFFLINE_DEMO_MESSAGE }]);

  const rounds = parseScript(body);
  // Every earlier call in this turn ended with tool calls and left one assistant message behind.
  const roundIndex = prompt.slice(latestUser + 1).filter((m) => m.role === "assistant").length;
  const round = rounds[roundIndex];
  if (round === undefined || round.toolCalls.length === 0) return stop(round?.utterances ?? []);
  // Ids unique within the conversation: turn number, round number, call number.
  const turn = prompt.slice(0, latestUser + 1).filter((m) => m.role === "user").length;
  return {
    utterances: round.utterances,
    toolCalls: round.toolCalls.map((call, index) => ({
      toolCallId: `script-${turn}-${roundIndex + 1}-${index + 1}`,
      toolName: call.tool,
      input: JSON.stringify(resolveReferences(call.args, earlierResults(prompt.slice(latestUser + 1)))),
    })),
    finishReason: { unified: "tool-calls", raw: "tool-calls" },
  };
}

/** The results of this turn's earlier tool calls, in call order, as JSON values where they parse. */
function earlierResults(turnMessages: Prompt): unknown[] {
  const results: unknown[] = [];
  for (const message of turnMessages) {
    if (message.role !== "tool") continue;
    for (const part of message.content) {
      if (part.type !== "tool-result") continue;
      const output = part.output as { type: string; value?: unknown };
      const value = output.type === "json" || output.type === "text" ? output.value : undefined;
      results.push(mcpText(value) ?? value);
    }
  }
  return results;
}

/** An MCP tool's answer is JSON in its first text block; the scripts refer to that JSON. */
function mcpText(value: unknown): unknown {
  const text = (value as { content?: { type?: string; text?: string }[] } | null)?.content?.find(
    (c) => c?.type === "text",
  )?.text;
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const REFERENCE = /\{\{(\d+)((?:\.[A-Za-z0-9_]+)*)\}\}/g;

/**
 * Fills `{{N.path}}` in a script's tool arguments with a field of the N-th earlier tool call's
 * result in this turn (counted from 1), so a script can message or stop the subtask it dispatched:
 * `{"tool": "stop_subtask", "args": {"taskId": "{{1.taskId}}"}}`.
 */
function resolveReferences(value: unknown, results: unknown[]): unknown {
  if (typeof value === "string") {
    return value.replace(REFERENCE, (ref, n: string, path: string) => {
      let found: unknown = results[Number(n) - 1];
      for (const key of path.split(".").filter(Boolean)) {
        found = found && typeof found === "object" ? (found as Record<string, unknown>)[key] : undefined;
      }
      if (found === undefined) {
        throw new ScriptError(`${ref} refers to nothing: this turn has made ${results.length} tool call(s) so far`);
      }
      return typeof found === "string" ? found : JSON.stringify(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, results));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, results)]));
  }
  return value;
}

export function createScriptedModel(): LanguageModelV3 {
  return {
    specificationVersion: "v3",
    provider: "sam",
    modelId: "scripted",
    supportedUrls: {},

    async doGenerate({ prompt, abortSignal }) {
      const planned = plan(prompt);
      const content: Content[] = [];
      for (const utterance of planned.utterances) {
        if ("sleep" in utterance) await delay(utterance.sleep, undefined, { signal: abortSignal });
        else content.push({ type: "text", text: utterance.say });
      }
      for (const call of planned.toolCalls) content.push({ type: "tool-call", ...call });
      return { content, finishReason: planned.finishReason, usage: NO_USAGE, warnings: [] };
    },

    async doStream({ prompt, abortSignal }) {
      const planned = plan(prompt);
      const stream = new ReadableStream<StreamPart>({
        start(controller) {
          // Played in the background so text before a sleep reaches the loop before the sleep ends.
          void (async () => {
            try {
              controller.enqueue({ type: "stream-start", warnings: [] });
              for (const [index, utterance] of planned.utterances.entries()) {
                if ("sleep" in utterance) {
                  await delay(utterance.sleep, undefined, { signal: abortSignal });
                  continue;
                }
                const id = `text-${index + 1}`;
                controller.enqueue({ type: "text-start", id });
                controller.enqueue({ type: "text-delta", id, delta: utterance.say });
                controller.enqueue({ type: "text-end", id });
              }
              for (const call of planned.toolCalls) controller.enqueue({ type: "tool-call", ...call });
              controller.enqueue({ type: "finish", finishReason: planned.finishReason, usage: NO_USAGE });
              controller.close();
            } catch (error) {
              controller.error(error);
            }
          })();
        },
      });
      return { stream };
    },
  };
}
