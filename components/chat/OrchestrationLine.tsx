import type { DynamicToolUIPart } from "ai";
import Link from "next/link";
import type { ReactNode } from "react";
import { baseToolName, mcpJson, stringField } from "./tool-names";

/** The orchestration tools the chat shows as one readable line instead of a tool card. */
export const ORCHESTRATION_TOOLS = new Set([
  "dispatch_task",
  "send_message_to_subtask",
  "stop_subtask",
  "retry_subtask",
  "add_dependency",
  "remove_pending_subtask",
  "update_task_status",
  "complete_task",
  "get_task_dependencies",
  "get_instructions",
]);

export function isOrchestrationCall(part: DynamicToolUIPart): boolean {
  return ORCHESTRATION_TOOLS.has(baseToolName(part.toolName));
}

function TaskLink({ projectId, taskId, label }: { projectId: string; taskId?: string; label?: string }) {
  if (!taskId) return <span>{label ?? "a subtask"}</span>;
  return (
    <Link href={`/projects/${projectId}/tasks/${encodeURIComponent(taskId)}`} className="font-medium underline">
      {label ?? taskId.slice(0, 8)}
    </Link>
  );
}

function quote(text: string | undefined, max = 80): string {
  if (!text) return "";
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A dispatch, stop, message… as a sentence linking to the task it acted on. */
export function OrchestrationLine({ part, projectId }: { part: DynamicToolUIPart; projectId: string }) {
  const name = baseToolName(part.toolName);
  const input = part.input;
  const result = part.state === "output-available" ? mcpJson(part.output) : undefined;
  const target = stringField(input, "taskId");
  let sentence: ReactNode;
  switch (name) {
    case "dispatch_task": {
      const title = stringField(input, "title") ?? quote(stringField(input, "description"), 60);
      sentence = (
        <>
          Dispatched subtask <TaskLink projectId={projectId} taskId={stringField(result, "taskId")} label={title} />
        </>
      );
      break;
    }
    case "send_message_to_subtask":
      sentence = (
        <>
          Sent a message to <TaskLink projectId={projectId} taskId={target} />: “{quote(stringField(input, "message"))}”
        </>
      );
      break;
    case "stop_subtask":
      sentence = (
        <>
          Stopped <TaskLink projectId={projectId} taskId={target} />
          {stringField(input, "reason") ? `: ${quote(stringField(input, "reason"))}` : ""}
        </>
      );
      break;
    case "retry_subtask":
      sentence = (
        <>
          Retried <TaskLink projectId={projectId} taskId={target} /> as{" "}
          <TaskLink projectId={projectId} taskId={stringField(result, "taskId")} label="a new attempt" />
        </>
      );
      break;
    case "add_dependency":
      sentence = (
        <>
          Made <TaskLink projectId={projectId} taskId={target} /> wait on{" "}
          <TaskLink projectId={projectId} taskId={stringField(input, "dependsOnTaskId")} />
        </>
      );
      break;
    case "remove_pending_subtask":
      sentence = (
        <>
          Removed queued subtask <TaskLink projectId={projectId} taskId={target} />
        </>
      );
      break;
    case "update_task_status":
      sentence = <>Progress: {quote(stringField(input, "message"), 120)}</>;
      break;
    case "complete_task":
      sentence = <>Marked its task complete: {quote(stringField(input, "summary"), 120)}</>;
      break;
    case "get_task_dependencies":
      sentence = <>Looked at its subtasks and their dependencies</>;
      break;
    default:
      sentence = <>Read its instructions</>;
  }
  const failed = part.state === "output-error";
  return (
    <div
      data-testid="orchestration-line"
      data-tool={name}
      data-status={failed ? "failed" : part.state === "output-available" ? "done" : "running"}
      className={`flex flex-wrap items-baseline gap-x-1 rounded-md border-l-2 px-3 py-1 text-sm ${
        failed
          ? "border-red-500 bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-200"
          : "border-violet-500 bg-violet-50 text-violet-950 dark:bg-violet-950/40 dark:text-violet-100"
      }`}
    >
      <span aria-hidden>↳</span>
      <span className="min-w-0">{sentence}</span>
      {failed ? <span className="basis-full text-xs">Refused: {quote(part.errorText, 200)}</span> : null}
      {part.state !== "output-available" && !failed ? <span className="text-xs opacity-70">…</span> : null}
    </div>
  );
}
