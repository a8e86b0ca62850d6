import type { ReactNode } from "react";
import { IdeaInlineCard } from "@/components/ideas/IdeaInlineCard";
import type { ChatMessage } from "@/lib/chat/chunks";
import type { MessageDelivery } from "@/lib/tasks/message-sender";
import { formatTokens } from "@/lib/usage/format";
import { MarkdownText } from "./MarkdownText";
import { MessageToAgent } from "./MessageToAgent";
import { isOrchestrationCall, OrchestrationLine } from "./OrchestrationLine";
import { PlanChecklist } from "./PlanChecklist";
import { ToolCallPart } from "./ToolCallPart";
import { ideaOfToolPart } from "./tool-names";

type Part = ChatMessage["parts"][number];

/** Text parts in a row are one text: a resumed stream may continue a text in a new part. */
function mergeTexts(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const part of parts) {
    const prev = out.at(-1);
    if (part.type === "text" && prev?.type === "text") out[out.length - 1] = { ...prev, text: prev.text + part.text };
    else out.push(part);
  }
  return out;
}

function Note({ tone, testId, children }: { tone: "error" | "ok" | "info"; testId: string; children: ReactNode }) {
  const style = {
    error: "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100",
    ok: "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100",
    info: "border-zinc-200 bg-zinc-50 text-zinc-700 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300",
  }[tone];
  return (
    <div data-testid={testId} className={`rounded-md border px-3 py-1.5 text-sm ${style}`}>
      {children}
    </div>
  );
}

function AssistantPart({ part, projectId }: { part: Part; projectId: string }) {
  switch (part.type) {
    case "text":
      return <MarkdownText text={part.text} />;
    case "reasoning":
      return (
        <details className="text-sm text-zinc-600 dark:text-zinc-400">
          <summary className="cursor-pointer">Thinking</summary>
          <p className="whitespace-pre-wrap">{part.text}</p>
        </details>
      );
    case "dynamic-tool": {
      // An idea the agent captured or linked shows as a card that opens it.
      const idea = ideaOfToolPart(part);
      if (idea) return <IdeaInlineCard projectId={projectId} idea={idea} />;
      return isOrchestrationCall(part) ? (
        <OrchestrationLine part={part} projectId={projectId} />
      ) : (
        <ToolCallPart part={part} />
      );
    }
    case "data-agentError":
      return (
        <Note tone="error" testId="agent-error">
          Agent error: {part.data.message}
        </Note>
      );
    case "data-workSaved":
      return (
        <Note tone="info" testId="work-saved">
          {part.data.changed ? (
            <>
              Saved work on <span className="font-mono">{part.data.branch}</span> ({part.data.commit.slice(0, 7)})
              {part.data.pushed ? ", pushed" : ", not pushed"}
            </>
          ) : (
            "No changes: nothing was committed or pushed"
          )}
        </Note>
      );
    case "data-plan":
      return <PlanChecklist entries={part.data.entries} />;
    case "data-finished":
      return (
        <Note tone={part.data.outcome === "completed" ? "ok" : "error"} testId="session-finished">
          {part.data.outcome === "completed" ? "Finished" : "Failed"}
          {part.data.reason ? `: ${part.data.reason}` : ""}
        </Note>
      );
    default:
      return null;
  }
}

/**
 * One message of the chat: a message to the agent as a bubble marked with its sender and delivery,
 * the agent's reply as its texts, tool calls and notes. `delivery` is for a message this tab sent
 * that the stored transcript does not show yet.
 */
export function ChatMessageView({
  message,
  projectId,
  delivery,
}: {
  message: ChatMessage;
  projectId: string;
  delivery?: MessageDelivery;
}) {
  if (message.role === "user") {
    const text = message.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
    return (
      <MessageToAgent text={text} sender={message.metadata?.sender} delivery={message.metadata?.delivery ?? delivery} />
    );
  }
  const usage = message.parts.find((p) => p.type === "data-usage")?.data;
  return (
    <li data-testid="chat-message" data-role="assistant" className="flex gap-3">
      <span
        aria-hidden
        className="mt-0.5 flex h-7 w-7 shrink-0 items-center justify-center rounded-full bg-zinc-900 text-xs font-semibold text-white dark:bg-zinc-100 dark:text-zinc-900"
      >
        AI
      </span>
      <div className="min-w-0 flex-1 space-y-2">
        {mergeTexts(message.parts).map((part, i) => (
          <AssistantPart
            // Parts only ever grow at the end, so their position is stable.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            key={i}
            part={part}
            projectId={projectId}
          />
        ))}
        {usage ? (
          <p data-testid="reply-usage" className="text-[11px] text-zinc-500 dark:text-zinc-500">
            {formatTokens(usage.inputTokens)} in · {formatTokens(usage.outputTokens)} out tokens
          </p>
        ) : null}
      </div>
    </li>
  );
}
