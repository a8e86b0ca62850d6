import { eq } from "drizzle-orm";
import { z } from "zod";
import { tasks } from "@/db/schema";
import { callerTask } from "../caller-task";
import { defineTool } from "../tool";

const RULES = {
  conversation: [
    "This is a conversation: explore the repository and discuss it with the user.",
    "Do not push branches or open pull requests; changes you make in the workspace stay local.",
    "Capture insights worth building as ideas (create_idea) so they are not lost; when the talk touches an idea that exists (list_ideas, get_idea), link it to this conversation (link_idea) and refine it (update_idea).",
    "When you finish a turn the session waits for the user's follow-up; the user ends it.",
  ],
  task: [
    "This is a task: work on your branch, implement, test, and commit.",
    "When you are done, call complete_task with a summary of what you did and end your turn: your work is pushed and a pull request opened with your summary as its description.",
    "Your work is committed and pushed to the project repository when your turn ends.",
    "Report progress with update_task_status on long tasks.",
    "When you end your turn while subtasks you dispatched are still active, you wait for them: each one's end wakes you with its outcome, or call wait_for_subtasks first to be woken once for several. The task completes when a turn ends with none active.",
  ],
} as const;

export const getInstructions = defineTool({
  name: "get_instructions",
  description: "The context of your task: project, task, mode, parent, and the rules for this mode.",
  input: z.object({}).strict(),
  async handler(ctx) {
    const { task, project } = await callerTask(ctx);
    const parent = task.parentId
      ? await ctx.db.query.tasks.findFirst({
          where: eq(tasks.id, task.parentId),
          columns: { id: true, title: true, status: true },
        })
      : undefined;
    return {
      project: { id: project.id, name: project.name, repo: project.repo, defaultBranch: project.defaultBranch },
      task: {
        id: task.id,
        title: task.title,
        description: task.description,
        mode: task.mode,
        status: task.status,
        depth: task.depth,
        branch: task.branch,
      },
      parent: parent ?? null,
      limits: {
        maxDepth: project.maxDepth,
        maxChildren: project.maxChildren,
        maxActiveDispatched: project.maxActiveDispatched,
        maxRetries: project.maxRetries,
      },
      rules: RULES[task.mode],
    };
  },
});
