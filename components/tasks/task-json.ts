import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import type { StoredAgentEvent, TaskDetails } from "@/lib/tasks/show-task";

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

/** One stored agent event as the event stream sends it. */
export type AgentEventJson = Jsonified<StoredAgentEvent>;

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
