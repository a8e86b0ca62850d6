import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { tasks } from "@/db/schema";
import { SamError } from "../../errors";
import { notifyProgress } from "../../notifications/notify";
import { clip } from "../../notifications/task-notifications";
import { ON_NODE_STATUSES } from "../../tasks/statuses";
import { defineTool } from "../tool";

export const updateTaskStatus = defineTool({
  name: "update_task_status",
  description: "Report progress on your task (shown to the user).",
  input: z
    .object({
      message: z.string().trim().min(1).max(2000),
      percent: z.number().int().min(0).max(100).optional(),
    })
    .strict(),
  async handler(ctx, { message, percent }) {
    const progress = percent === undefined ? message : `${percent}% — ${message}`;
    const updated = await ctx.db
      .update(tasks)
      .set({ progress, updatedAt: new Date() })
      .where(and(eq(tasks.id, ctx.caller.taskId), inArray(tasks.status, ON_NODE_STATUSES)))
      .returning({ title: tasks.title, projectId: tasks.projectId });
    const task = updated[0];
    if (!task) throw new SamError("conflict", "The task is not running");
    await notifyProgress(ctx.db, {
      projectId: task.projectId,
      taskId: ctx.caller.taskId,
      title: `${clip(task.title, 120)}: progress`,
      body: progress,
    });
    return { ok: true, progress };
  },
});
