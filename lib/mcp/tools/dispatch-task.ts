import { dispatchInputSchema, dispatchTask } from "../../orchestrator/dispatch";
import { defineTool } from "../tool";

export const dispatchTaskTool = defineTool({
  name: "dispatch_task",
  description:
    "Spawn a subtask that another agent works on in its own workspace and branch. dependsOn lists your other subtasks it must wait for. Returns {taskId, status, blockedBy}.",
  input: dispatchInputSchema,
  handler: (ctx, args) => dispatchTask(ctx.db, ctx.caller, args),
});
