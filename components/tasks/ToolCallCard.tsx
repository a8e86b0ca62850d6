import { ScrollablePre } from "@/components/chat/ScrollablePre";
import type { AgentEventJson } from "./task-json";

export interface ToolCall {
  name: string;
  input?: unknown;
}

export interface ToolResult {
  status: "completed" | "failed";
  output: unknown;
}

/** A value as readable text: strings as they are, anything else as indented JSON. */
function asText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

const pre =
  "mt-1 max-h-72 overflow-auto whitespace-pre-wrap break-words rounded bg-zinc-50 p-2 font-mono text-xs dark:bg-zinc-900";

/**
 * One tool call with its result, folded to a line; a failed call starts unfolded. A result whose
 * call is not in view (the log was resumed after it) is shown on its own.
 */
export function ToolCallCard({ call, result, at }: { call?: ToolCall; result?: ToolResult; at: AgentEventJson["at"] }) {
  const state = result?.status ?? "running";
  const badge = {
    running: "bg-blue-100 text-blue-800 dark:bg-blue-950 dark:text-blue-300",
    completed: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
    failed: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  }[state];
  return (
    <details
      open={state === "failed"}
      data-testid="tool-call"
      data-status={state}
      className={`rounded-md border text-sm ${
        state === "failed" ? "border-red-300 dark:border-red-800" : "border-zinc-200 dark:border-zinc-800"
      }`}
    >
      <summary className="flex cursor-pointer list-none items-center gap-2 px-3 py-2" title={at}>
        <span aria-hidden className="text-zinc-400">
          ⚙
        </span>
        <span className="min-w-0 truncate font-mono font-medium">{call?.name ?? "tool"}</span>
        <span className={`ml-auto shrink-0 rounded-full px-2 py-0.5 text-xs ${badge}`}>{state}</span>
      </summary>
      <div className="space-y-2 border-t border-zinc-200 px-3 py-2 dark:border-zinc-800">
        {call ? (
          <div>
            <div className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">Input</div>
            <ScrollablePre label="Input" className={pre}>
              {asText(call.input)}
            </ScrollablePre>
          </div>
        ) : null}
        {result ? (
          <div>
            <div className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">Result</div>
            <ScrollablePre label="Output" className={pre}>
              {asText(result.output)}
            </ScrollablePre>
          </div>
        ) : (
          <p className="text-xs text-zinc-600 dark:text-zinc-400">Waiting for the result…</p>
        )}
      </div>
    </details>
  );
}
