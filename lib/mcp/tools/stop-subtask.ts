import { stopSubtask, stopSubtaskSchema } from "../../orchestrator/stop";
import { defineTool } from "../tool";

export const stopSubtaskTool = defineTool({
  name: "stop_subtask",
  description:
    "Stop one of your subtasks: it is warned, gets graceSeconds (0-30, default from the project) to commit its work, " +
    "then is stopped; what it has is committed and pushed to its branch and it fails with reason " +
    '"stopped by parent: <reason>". Returns at once with {stopping: true, graceSeconds}; you are told when it has ' +
    "ended. A subtask that has not started fails at once. Only the direct parent may stop a subtask.",
  input: stopSubtaskSchema,
  handler: (ctx, args) =>
    stopSubtask(ctx.db, { kind: "task", taskId: ctx.caller.taskId, projectId: ctx.caller.projectId }, args),
});
