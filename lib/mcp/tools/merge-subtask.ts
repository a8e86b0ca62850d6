import { mergeSubtask, mergeSubtaskSchema } from "../../orchestrator/merge-subtask";
import { defineTool } from "../tool";

export const mergeSubtaskTool = defineTool({
  name: "merge_subtask",
  description:
    "Bring the work of one of your subtasks (ended, with its work pushed) into your own branch, in your workspace, " +
    'so your push carries it. strategy: "merge" (default: a merge commit), "squash" (one commit of all of it) or ' +
    '"rebase" (its commits replayed on top of yours). Commit your own changes first. Returns {merged, commit, strategy, ' +
    "branch}; merged is false when your branch already had that work. A conflict merges nothing and names the paths. " +
    "Only the direct parent may merge a subtask.",
  input: mergeSubtaskSchema,
  handler: (ctx, args) => mergeSubtask(ctx.db, ctx.caller, args),
});
