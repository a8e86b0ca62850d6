import { addDependency, addDependencyInputSchema } from "../../orchestrator/dependencies";
import { defineTool } from "../tool";

export const addDependencyTool = defineTool({
  name: "add_dependency",
  description:
    "Make one of your queued subtasks (taskId) wait until another of your subtasks (dependsOnTaskId) completes.",
  input: addDependencyInputSchema,
  handler: (ctx, args) => addDependency(ctx.db, { kind: "task", ...ctx.caller }, args),
});
