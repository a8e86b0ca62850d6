/**
 * Tool calls as real ACP agents report them, turned into SAM's `tool_call` / `tool_result` events.
 *
 * Agents differ: Claude Code names its tools in `_meta.claudeCode.toolName` and Qwen Code in
 * `_meta.toolName` (the title is a description such as "ls -la"); both prefix MCP tools with
 * `mcp__<server>__`; both announce a call before its input is known and send the input in a later
 * `tool_call_update`; and their output comes in `content` (text, diffs) more often than in
 * `rawOutput`. A call is reported once its input is known, so the transcript shows it with its
 * arguments, and its output in a form the web app reads (MCP's `{content: [{type: "text"}]}`).
 */
import type { ContentBlock, ToolCall, ToolCallContent, ToolCallUpdate } from "@agentclientprotocol/sdk";
import { SAM_MCP_SERVER_NAME } from "./session-meta.ts";
import type { HarnessEvent } from "./types.ts";

const SAM_MCP_PREFIX = `mcp__${SAM_MCP_SERVER_NAME}__`;

interface TrackedCall {
  name?: string;
  title?: string;
  input?: unknown;
  /** Reported as a `tool_call` event. */
  announced: boolean;
  content?: ToolCallContent[];
  rawOutput?: unknown;
}

type TextBlock = { type: "text"; text: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The tool's own name, from the fields agents put it in; SAM's MCP tools without their prefix. */
function nameOf(update: ToolCall | ToolCallUpdate): string | undefined {
  const meta = update._meta ?? {};
  const claudeCode = isRecord(meta.claudeCode) ? meta.claudeCode : {};
  const name = [update.name, claudeCode.toolName, meta.toolName].find((n) => typeof n === "string" && n.length > 0);
  if (typeof name !== "string") return undefined;
  return name.startsWith(SAM_MCP_PREFIX) ? name.slice(SAM_MCP_PREFIX.length) : name;
}

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "resource_link":
      return block.uri;
    case "resource":
      return "text" in block.resource ? block.resource.text : `[${block.resource.uri}]`;
    default:
      return `[${block.type}]`;
  }
}

/** A diff as a unified hunk: the changed lines between the common head and tail. */
function diffText(path: string, oldText: string | null | undefined, newText: string): string {
  if (oldText === null || oldText === undefined) return `--- /dev/null\n+++ ${path}\n${prefixed(newText, "+")}`;
  const before = oldText.split("\n");
  const after = newText.split("\n");
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (
    tail < before.length - head &&
    tail < after.length - head &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  ) {
    tail++;
  }
  const removed = before.slice(head, before.length - tail);
  const added = after.slice(head, after.length - tail);
  const hunk = `@@ -${head + 1},${removed.length} +${head + 1},${added.length} @@`;
  return [`--- ${path}`, `+++ ${path}`, hunk, ...removed.map((l) => `-${l}`), ...added.map((l) => `+${l}`)].join("\n");
}

function prefixed(text: string, mark: string): string {
  return text
    .split("\n")
    .map((line) => `${mark}${line}`)
    .join("\n");
}

/** An ACP tool call's content as text blocks (terminals SAM does not offer carry none). */
function textBlocks(content: ToolCallContent[]): TextBlock[] {
  const blocks: TextBlock[] = [];
  for (const entry of content) {
    if (entry.type === "content") blocks.push({ type: "text", text: blockText(entry.content) });
    else if (entry.type === "diff")
      blocks.push({ type: "text", text: diffText(entry.path, entry.oldText, entry.newText) });
  }
  return blocks.filter((block) => block.text.length > 0);
}

/**
 * What a finished call gave back: a structured `rawOutput` object as the agent sent it (the
 * built-in agent's, an MCP result), a diff as readable text, otherwise the text of `content`
 * or of `rawOutput`, shaped like an MCP result so the web app renders it one way.
 */
export function toolOutput(rawOutput: unknown, content: ToolCallContent[] | undefined): unknown {
  const blocks = textBlocks(content ?? []);
  if (content?.some((entry) => entry.type === "diff")) return { content: blocks };
  if (isRecord(rawOutput)) return rawOutput;
  if (blocks.length > 0) return { content: blocks };
  if (typeof rawOutput === "string") return { content: [{ type: "text", text: rawOutput }] };
  if (Array.isArray(rawOutput)) return { content: rawOutput };
  return rawOutput ?? null;
}

function isEmptyInput(input: unknown): boolean {
  return input === undefined || input === null || (isRecord(input) && Object.keys(input).length === 0);
}

/** Follows one session's tool calls from their announcement to their result. */
export class ToolCallTracker {
  private readonly calls = new Map<string, TrackedCall>();

  /** The events one `tool_call` or `tool_call_update` stands for. */
  update(update: ToolCall | ToolCallUpdate, kind: "tool_call" | "tool_call_update"): HarnessEvent[] {
    let call = this.calls.get(update.toolCallId);
    if (!call) {
      call = { announced: false };
      this.calls.set(update.toolCallId, call);
    }
    call.name = nameOf(update) ?? call.name;
    call.title = update.title ?? call.title;
    if (update.content) call.content = update.content;
    if (update.rawOutput !== undefined && update.rawOutput !== null) call.rawOutput = update.rawOutput;

    // An announcement's empty input is a placeholder (Qwen's "preparing" frame, a call whose
    // arguments are still streaming); an update's input is the real one, even when empty.
    let inputKnown = false;
    if (update.rawInput !== undefined && !(kind === "tool_call" && isEmptyInput(update.rawInput))) {
      call.input =
        isRecord(call.input) && isRecord(update.rawInput) ? { ...call.input, ...update.rawInput } : update.rawInput;
      inputKnown = true;
    }
    const finished = update.status === "completed" || update.status === "failed";
    // Qwen Code ends a call it announced while the model was still streaming, then dropped (its stream
    // was retried), with a failed frame: that call never ran, so it is not in the transcript at all.
    if (finished && !call.announced && update._meta?.preparationDiscarded === true) {
      this.calls.delete(update.toolCallId);
      return [];
    }
    const events: HarnessEvent[] = [];
    if (!call.announced && (inputKnown || finished || update.status === "in_progress")) {
      events.push(this.announce(update.toolCallId, call));
    }
    if (finished) {
      this.calls.delete(update.toolCallId);
      events.push({
        type: "tool_result",
        toolCallId: update.toolCallId,
        name: this.nameFor(call),
        status: update.status === "completed" ? "completed" : "failed",
        output: toolOutput(call.rawOutput, call.content),
      });
    }
    return events;
  }

  /** At the end of a turn: calls still waiting for their input are reported with what is known. */
  flush(): HarnessEvent[] {
    const events: HarnessEvent[] = [];
    for (const [toolCallId, call] of this.calls) {
      if (!call.announced) events.push(this.announce(toolCallId, call));
    }
    return events;
  }

  private announce(toolCallId: string, call: TrackedCall): HarnessEvent {
    call.announced = true;
    return { type: "tool_call", toolCallId, name: this.nameFor(call), input: call.input ?? {} };
  }

  private nameFor(call: TrackedCall): string {
    return call.name ?? call.title ?? "tool";
  }
}
