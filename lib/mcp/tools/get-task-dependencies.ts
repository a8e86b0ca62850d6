import { taskGraph, taskGraphInputSchema } from "../../orchestrator/task-graph";
import { defineTool } from "../tool";

export const getTaskDependenciesTool = defineTool({
  name: "get_task_dependencies",
  description:
    "The graph around your task (or one of your subtasks): parent, children, siblings with status, branch and PR, dependency edges, and what each blocked task waits on.",
  input: taskGraphInputSchema,
  handler: (ctx, args) => taskGraph(ctx.db, ctx.caller, args),
});
