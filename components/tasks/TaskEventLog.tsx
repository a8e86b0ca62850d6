import type { ReactNode } from "react";
import { PlanChecklist } from "@/components/chat/PlanChecklist";
import { ScrollablePre } from "@/components/chat/ScrollablePre";
import { deliveryLabel, type MessageDelivery, senderLabel } from "@/lib/tasks/message-sender";
import { LocalTime } from "./LocalTime";
import { ToolCallCard, type ToolResult } from "./ToolCallCard";
import { type AgentEventJson, payloadOf, type SentMessageJson } from "./task-json";

/** Who sent a message whose event does not say (stored before senders were recorded). */
const SOURCE_SENDER: Record<"user" | "parent" | "system" | "task", string> = {
  user: "User",
  parent: "Parent task",
  system: "SAM",
  task: "Task prompt",
};

/** Where a line of the log came from, and when. */
function Line({ event, label, children }: { event: AgentEventJson; label: string; children: ReactNode }) {
  return (
    <li data-testid="agent-event" data-type={event.type} data-seq={event.seq} className="text-sm">
      <div className="mb-0.5 flex items-baseline gap-2 text-xs text-zinc-600 dark:text-zinc-400">
        <span className="font-medium">{label}</span>
        <LocalTime at={event.at} />
      </div>
      {children}
    </li>
  );
}

/** A quiet one-line marker between the conversation's parts (session start, turn end). */
function Marker({ event, children }: { event: AgentEventJson; children: ReactNode }) {
  return (
    <li
      data-testid="agent-event"
      data-type={event.type}
      data-seq={event.seq}
      className="text-center text-xs text-zinc-600 dark:text-zinc-400"
    >
      {children} · <LocalTime at={event.at} />
    </li>
  );
}

const prose = "whitespace-pre-wrap break-words";

/** A message to the agent: who sent it, whether the agent has it, and what it says. */
function MessageLine({
  sender,
  delivery,
  at,
  source,
  text,
  eventProps,
}: {
  sender: string;
  delivery: MessageDelivery;
  at: string;
  source: string;
  text: string;
  eventProps: Record<string, string | number>;
}) {
  const state = deliveryLabel(delivery);
  return (
    <li {...eventProps} data-delivery={delivery} className="text-sm">
      <div className="mb-0.5 flex flex-wrap items-baseline gap-x-2 text-xs text-zinc-600 dark:text-zinc-400">
        <span data-testid="message-sender" className="font-medium">
          {sender}
        </span>
        <span data-testid="message-delivery">
          {state.label}
          {delivery === "delivered" ? null : ` · ${state.detail}`}
        </span>
        <LocalTime at={at} />
      </div>
      <p
        data-source={source}
        className={`${prose} rounded-md bg-zinc-100 px-3 py-2 dark:bg-zinc-900 ${delivery === "delivered" ? "" : "border border-dashed border-zinc-400 dark:border-zinc-600"}`}
      >
        {text}
      </p>
    </li>
  );
}

/**
 * What the agent did, in order: messages (marked with their sender), tool calls (each with its
 * result), errors, saved work and the session's end; then the messages on their way to the agent.
 */
export function TaskEventLog({ events, pending = [] }: { events: AgentEventJson[]; pending?: SentMessageJson[] }) {
  // A tool's result is shown inside its call's card; results of calls not in view stand alone.
  const results = new Map<string, ToolResult>();
  const calls = new Set<string>();
  // Each plan replaces the one before: only the latest is shown.
  let latestPlanSeq: number | undefined;
  for (const event of events) {
    const payload = payloadOf(event);
    if (payload.type === "tool_result") results.set(payload.toolCallId, payload);
    if (payload.type === "tool_call") calls.add(payload.toolCallId);
    if (payload.type === "plan") latestPlanSeq = event.seq;
  }
  if (events.length === 0 && pending.length === 0) {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">No agent activity yet.</p>;
  }
  return (
    <ol className="space-y-3" data-testid="task-event-log">
      {events.map((event) => {
        const payload = payloadOf(event);
        switch (payload.type) {
          case "session_started":
            return (
              <Marker key={event.seq} event={event}>
                Session started · {payload.harness} ·{" "}
                {payload.model === "scripted" ? "scripted (offline demo model)" : payload.model}
              </Marker>
            );
          case "user_message":
            return (
              <MessageLine
                key={event.seq}
                sender={event.sender ? senderLabel(event.sender) : SOURCE_SENDER[payload.source]}
                delivery="delivered"
                at={event.at}
                source={payload.source}
                text={payload.text}
                eventProps={{ "data-testid": "agent-event", "data-type": event.type, "data-seq": event.seq }}
              />
            );
          case "agent_text":
            return (
              <Line key={event.seq} event={event} label="Agent">
                <p className={prose}>{payload.text}</p>
              </Line>
            );
          case "agent_thought":
            return (
              <Line key={event.seq} event={event} label="Agent (thinking)">
                <p className={`${prose} italic text-zinc-600 dark:text-zinc-400`}>{payload.text}</p>
              </Line>
            );
          case "tool_call":
            return (
              <li key={event.seq} data-testid="agent-event" data-type={event.type} data-seq={event.seq}>
                <ToolCallCard call={payload} result={results.get(payload.toolCallId)} at={event.at} />
              </li>
            );
          case "tool_result":
            if (calls.has(payload.toolCallId)) return null;
            return (
              <li key={event.seq} data-testid="agent-event" data-type={event.type} data-seq={event.seq}>
                <ToolCallCard call={{ name: payload.name }} result={payload} at={event.at} />
              </li>
            );
          case "agent_error":
            return (
              <Line key={event.seq} event={event} label="Agent error">
                <p
                  className={`${prose} rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200`}
                >
                  {payload.message}
                </p>
              </Line>
            );
          case "plan":
            if (event.seq !== latestPlanSeq) return null;
            return (
              <Line key={event.seq} event={event} label="Plan">
                <PlanChecklist entries={payload.entries} />
              </Line>
            );
          case "usage":
            // Counted in the task's usage, not a line of the conversation.
            return null;
          case "turn_ended":
            return (
              <Marker key={event.seq} event={event}>
                Turn ended{payload.stopReason === "end_turn" ? "" : ` (${payload.stopReason.replaceAll("_", " ")})`}
              </Marker>
            );
          case "work_saved":
            return (
              <Line key={event.seq} event={event} label="Work saved">
                {payload.changed === false ? (
                  <p className="break-words">No changes: nothing was committed or pushed</p>
                ) : (
                  <p className="break-words">
                    Branch <code className="font-mono">{payload.branch}</code> at commit{" "}
                    <code className="font-mono">{payload.commit.slice(0, 12)}</code>
                    {payload.pushed ? ", pushed" : ", not pushed"}
                  </p>
                )}
              </Line>
            );
          case "session_finished":
            return (
              <Line key={event.seq} event={event} label="Session finished">
                <p
                  className={
                    payload.outcome === "failed"
                      ? `${prose} font-medium text-red-700 dark:text-red-400`
                      : `${prose} font-medium text-emerald-700 dark:text-emerald-400`
                  }
                >
                  {payload.outcome}
                  {payload.reason ? `: ${payload.reason}` : ""}
                </p>
              </Line>
            );
          default:
            // An event kind this page does not know yet (a newer daemon): shown as it was stored.
            return (
              <Line key={event.seq} event={event} label={event.type}>
                <ScrollablePre label="Event" className={`${prose} font-mono text-xs`}>
                  {JSON.stringify(event.payload, null, 2)}
                </ScrollablePre>
              </Line>
            );
        }
      })}
      {pending.map((message) => (
        <MessageLine
          key={message.id}
          sender={senderLabel(message.sender)}
          delivery={message.delivery}
          at={message.sentAt}
          source={message.sender.kind}
          text={message.text}
          eventProps={{ "data-testid": "pending-message" }}
        />
      ))}
    </ol>
  );
}
