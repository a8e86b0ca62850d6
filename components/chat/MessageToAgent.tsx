import { deliveryLabel, type MessageDelivery, type MessageSender, senderLabel } from "@/lib/tasks/message-sender";
import { MessageText } from "./MessageText";

const TONE: Record<MessageSender["kind"], string> = {
  user: "border-blue-200 bg-blue-50 dark:border-blue-900 dark:bg-blue-950",
  parent: "border-violet-200 bg-violet-50 dark:border-violet-900 dark:bg-violet-950",
  system: "border-amber-200 bg-amber-50 dark:border-amber-900 dark:bg-amber-950",
};

/**
 * A message to the agent (typed, the task's prompt, from the parent task or from SAM) as a bubble
 * that says who sent it and whether the agent has it. A message whose sender is not known (typed
 * in this tab, not stored yet) is the viewer's own.
 */
export function MessageToAgent({
  text,
  sender = { kind: "user", id: null, name: "You", you: true },
  delivery,
}: {
  text: string;
  sender?: MessageSender;
  /** Absent: not known yet (a message this tab is sending). */
  delivery?: MessageDelivery;
}) {
  const state = delivery ? deliveryLabel(delivery) : undefined;
  return (
    <li
      data-testid="chat-message"
      data-role="user"
      data-sender={sender.kind}
      data-delivery={delivery}
      className="flex justify-end"
    >
      <div
        className={`min-w-0 max-w-[85%] rounded-2xl rounded-br-sm border px-4 py-2 text-zinc-900 dark:text-zinc-100 [&_pre]:max-h-48 ${TONE[sender.kind]} ${delivery === "delivered" || !delivery ? "" : "border-dashed"}`}
      >
        <div className="mb-1 flex flex-wrap items-baseline gap-x-2 text-xs text-zinc-700 dark:text-zinc-300">
          <span data-testid="message-sender" className="font-semibold">
            {senderLabel(sender)}
          </span>
          {state ? (
            <span data-testid="message-delivery">
              {state.label}
              {delivery === "delivered" ? null : (
                <span className="text-zinc-600 dark:text-zinc-400"> · {state.detail}</span>
              )}
            </span>
          ) : null}
        </div>
        <MessageText text={text} />
      </div>
    </li>
  );
}
