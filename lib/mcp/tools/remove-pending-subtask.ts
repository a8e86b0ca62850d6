import { removePendingInputSchema, removePendingSubtask } from "../../orchestrator/remove";
import { defineTool } from "../tool";

export const removePendingSubtaskTool = defineTool({
  name: "remove_pending_subtask",
  description: "Remove one of your subtasks that is still queued (not started) and that no other task waits on.",
  input: removePendingInputSchema,
  handler: (ctx, args) => removePendingSubtask(ctx.db, { kind: "task", ...ctx.caller }, args),
});
