import type { DynamicToolUIPart } from "ai";
import { ScrollablePre } from "./ScrollablePre";

type Status = "running" | "done" | "failed";

function statusOf(part: DynamicToolUIPart): Status {
  if (part.state === "output-available") return "done";
  if (part.state === "output-error") return "failed";
  return "running";
}

const BADGE: Record<Status, string> = {
  running: "bg-blue-100 text-blue-800 dark:bg-blue-950 dark:text-blue-300",
  done: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  failed: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
};

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  const content = (value as { content?: { type?: string; text?: string }[] } | null)?.content;
  if (Array.isArray(content) && content.every((c) => c?.type === "text")) return content.map((c) => c.text).join("\n");
  return JSON.stringify(value, null, 2) ?? String(value);
}

const pre =
  "mt-1 max-h-64 overflow-auto whitespace-pre-wrap break-words rounded bg-zinc-50 p-2 font-mono text-xs dark:bg-zinc-900";

/** A tool call folded to one line (name and status); unfolded it shows the arguments and the result. */
export function ToolCallPart({ part }: { part: DynamicToolUIPart }) {
  const status = statusOf(part);
  return (
    <details
      open={status === "failed"}
      data-testid="chat-tool-call"
      data-status={status}
      data-tool={part.toolName}
      className={`rounded-md border text-sm ${status === "failed" ? "border-red-300 dark:border-red-800" : "border-zinc-200 dark:border-zinc-800"}`}
    >
      <summary className="flex cursor-pointer list-none items-center gap-2 px-3 py-1.5">
        <span aria-hidden className="text-zinc-400">
          ⚙
        </span>
        <span className="min-w-0 truncate font-mono text-xs font-medium">{part.toolName}</span>
        <span className={`ml-auto shrink-0 rounded-full px-2 py-0.5 text-xs ${BADGE[status]}`}>{status}</span>
      </summary>
      <div className="space-y-2 border-t border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <div>
          <div className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">Arguments</div>
          <ScrollablePre label="Input" className={pre}>
            {asText(part.input)}
          </ScrollablePre>
        </div>
        {part.state === "output-available" ? (
          <div>
            <div className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">Result</div>
            <ScrollablePre label="Output" className={pre}>
              {asText(part.output)}
            </ScrollablePre>
          </div>
        ) : part.state === "output-error" ? (
          <div>
            <div className="text-xs uppercase tracking-wide text-red-700 dark:text-red-400">Error</div>
            <ScrollablePre label="Error" className={pre}>
              {part.errorText}
            </ScrollablePre>
          </div>
        ) : (
          <p className="text-xs text-zinc-600 dark:text-zinc-400">Waiting for the result…</p>
        )}
      </div>
    </details>
  );
}
