import { retryInputSchema, retrySubtask } from "../../orchestrator/retry";
import { defineTool } from "../tool";

export const retrySubtaskTool = defineTool({
  name: "retry_subtask",
  description:
    "Replace one of your failed subtasks with a new one that is told the failure reason and the failed attempt's last messages, plus your extraContext.",
  input: retryInputSchema,
  handler: (ctx, args) => retrySubtask(ctx.db, { kind: "task", ...ctx.caller }, args),
});
