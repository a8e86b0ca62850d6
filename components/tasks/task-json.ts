import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import type { AgentEventWithSender, SentMessage } from "@/lib/tasks/sent-messages";
import type { TaskDetails } from "@/lib/tasks/show-task";
import { isTerminal, viewHasNews } from "@/lib/tasks/statuses";

/** What JSON makes of a value: dates become ISO strings, the rest keeps its shape. */
export type Jsonified<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/** A task's details as the API and the event stream send them. */
export type TaskJson = Jsonified<TaskDetails>;

/** One stored agent event as the event stream sends it (a message with its sender). */
export type AgentEventJson = Jsonified<AgentEventWithSender>;

/** A message on its way to the agent, as the event stream sends it. */
export type SentMessageJson = Jsonified<SentMessage>;

/**
 * The payload of a stored agent event. The web app stores only events that passed the contract's
 * schema, so the payload has one of its shapes.
 */
export function payloadOf(event: AgentEventJson): AgentEventPayload {
  return event.payload as AgentEventPayload;
}

/** The same value as it arrives over the wire, so server-rendered and streamed data share one shape. */
export function toJson<T>(value: T): Jsonified<T> {
  return JSON.parse(JSON.stringify(value)) as Jsonified<T>;
}

/**
 * Whether a task's event stream has nothing more to send: the server ends it once the task and all
 * its subtasks have ended (a parent's view follows its subtasks after its own end), and a failed
 * subtask's once it was retried or its parent ended.
 */
export function streamIsOver(task: Pick<TaskJson, "status" | "children" | "retriedAsId" | "parent">): boolean {
  return !viewHasNews({
    status: task.status,
    childrenActive: task.children.some((child) => !isTerminal(child.status)),
    retried: task.retriedAsId !== null,
    parentStatus: task.parent?.status ?? null,
  });
}
