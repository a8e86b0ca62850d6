import { waitForSubtasks, waitForSubtasksSchema } from "../../orchestrator/waits";
import { defineTool } from "../tool";

export const waitForSubtasksTool = defineTool({
  name: "wait_for_subtasks",
  description:
    "Wait for your subtasks (taskIds: some of yours; default all of them) until all or any (until, default all) have ended, " +
    "or timeoutSeconds (1-86400) pass. If that already holds, answers now with every subtask's outcome " +
    "(status, summary or failure reason, branch, pull request). Otherwise end your turn: you are woken once, " +
    "with every subtask's outcome in one message, instead of once per subtask.",
  input: waitForSubtasksSchema,
  handler: (ctx, args) => waitForSubtasks(ctx.db, ctx.caller.taskId, args),
});
