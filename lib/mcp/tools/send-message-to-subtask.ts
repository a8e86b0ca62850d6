import { sendMessageSchema, sendMessageToSubtask } from "../../orchestrator/send-message";
import { defineTool } from "../tool";

export const sendMessageToSubtaskTool = defineTool({
  name: "send_message_to_subtask",
  description:
    "Send a message to one of your subtasks (a task you dispatched). A running subtask gets it at once, as its next " +
    "prompt → {delivered: true}; one that has not started yet (or cannot be reached) gets it as soon as it can " +
    "→ {delivered: false, queued: true}. Only the direct parent may message a subtask.",
  input: sendMessageSchema,
  handler: (ctx, args) =>
    sendMessageToSubtask(ctx.db, { kind: "task", taskId: ctx.caller.taskId, projectId: ctx.caller.projectId }, args),
});
