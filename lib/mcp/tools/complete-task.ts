import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { tasks } from "@/db/schema";
import { SamError } from "../../errors";
import { callerTask } from "../caller-task";
import { defineTool } from "../tool";

export const completeTask = defineTool({
  name: "complete_task",
  description:
    "Finish a task-mode task with a summary. The task completes when your turn ends, after your work is committed and pushed; " +
    "if it changed something, a pull request is opened for review with your summary as its description (nothing changed: none).",
  input: z
    .object({
      summary: z.string().trim().min(1).max(20_000),
      prUrl: z.url().optional(),
    })
    .strict(),
  async handler(ctx, { summary, prUrl }) {
    const { task } = await callerTask(ctx);
    if (task.mode !== "task") {
      throw new SamError("conflict", "A conversation is not completed by the agent; the user ends it");
    }
    const updated = await ctx.db
      .update(tasks)
      .set({ summary, ...(prUrl ? { prUrl } : {}), updatedAt: new Date() })
      .where(and(eq(tasks.id, task.id), inArray(tasks.status, ["running"])))
      .returning({ id: tasks.id });
    if (updated.length === 0) throw new SamError("conflict", `The task is ${task.status}, not running`);
    return {
      ok: true,
      message: "Summary recorded. End your turn: your work is committed and pushed, then the task completes.",
    };
  },
});
