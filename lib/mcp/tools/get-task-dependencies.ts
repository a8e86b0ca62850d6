import { taskGraph, taskGraphInputSchema } from "../../orchestrator/task-graph";
import { defineTool } from "../tool";

export const getTaskDependenciesTool = defineTool({
  name: "get_task_dependencies",
  description:
    "The graph around your task (or one of your subtasks): parent, children, siblings with status, branch and PR, dependency edges, and what each blocked task waits on. " +
    "Paged: at most `limit` (≤ 100, default 100) children and siblings a page, children first, with the edges and blockers of that page's tasks; " +
    "while more remain the answer has `nextCursor`: pass it as `cursor` (with the same taskId) for the next page.",
  input: taskGraphInputSchema,
  handler: (ctx, args) => taskGraph(ctx.db, ctx.caller, args),
});
