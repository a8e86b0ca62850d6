/**
 * Who put a message into a task's session, as the transcript and the activity mark it. Plain data
 * and one pure function, so the browser's components can use it as well as the server.
 */
export type MessageSender =
  /** A person: `you` when it is the person looking at the page. */
  | { kind: "user"; id: string | null; name: string; you?: boolean }
  /** The agent of the parent task (a dispatch's description, `send_message_to_subtask`). */
  | { kind: "parent"; id: string; title: string }
  /** SAM itself: a stop warning, a subtask's end. */
  | { kind: "system" };

/**
 * Where a message is on its way to the agent:
 * - `waiting`: in the task's inbox, not yet handed to its session (not started, node unreachable);
 * - `queued`: the session has it and the agent reads it when its current turn ends;
 * - `delivered`: the agent received it;
 * - `undelivered`: the task ended before the agent received it.
 */
export type MessageDelivery = "waiting" | "queued" | "delivered" | "undelivered";

export function senderLabel(sender: MessageSender): string {
  switch (sender.kind) {
    case "user":
      return sender.you ? "You" : sender.name;
    case "parent":
      return `Parent task ${sender.title}`;
    case "system":
      return "SAM";
  }
}

/** The state in a word or two, and what it means (a phrase that follows it). */
export function deliveryLabel(delivery: MessageDelivery): { label: string; detail: string } {
  switch (delivery) {
    case "waiting":
      return { label: "Pending", detail: "waits to be handed to the agent's session" };
    case "queued":
      return { label: "Pending", detail: "the agent reads it when its current turn ends" };
    case "delivered":
      return { label: "Delivered", detail: "the agent received it" };
    case "undelivered":
      return { label: "Not delivered", detail: "the task ended before the agent received it" };
  }
}
