import { eq } from "drizzle-orm";
import { projects, tasks } from "@/db/schema";
import { SamError } from "../errors";
import type { ToolContext } from "./tool";

/** The caller's own task and project, as stored now. */
export async function callerTask(ctx: ToolContext) {
  const task = await ctx.db.query.tasks.findFirst({ where: eq(tasks.id, ctx.caller.taskId) });
  const project = await ctx.db.query.projects.findFirst({ where: eq(projects.id, ctx.caller.projectId) });
  if (!task || !project) throw new SamError("not_found", "The task of this token no longer exists");
  return { task, project };
}
