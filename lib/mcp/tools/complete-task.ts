import { sql } from "drizzle-orm";
import { z } from "zod";
import { SamError } from "../../errors";
import { stopSubtask } from "../../orchestrator/stop";
import { TERMINAL_STATUSES } from "../../tasks/statuses";
import { callerTask } from "../caller-task";
import { defineTool } from "../tool";

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

export const completeTask = defineTool({
  name: "complete_task",
  description:
    "Finish a task-mode task with a summary. The task completes when your turn ends, after your work is committed and pushed; " +
    "if it changed something, a pull request is opened for review with your summary as its description (nothing changed: none). " +
    "Refused while subtasks of yours are still active (end your turn instead: each one's end wakes you, or use wait_for_subtasks), " +
    "unless abandon: true, which stops them and completes this task when your turn ends.",
  input: z
    .object({
      summary: z.string().trim().min(1).max(20_000),
      prUrl: z.url().optional(),
      abandon: z.boolean().optional(),
    })
    .strict(),
  async handler(ctx, { summary, prUrl, abandon }) {
    const { task } = await callerTask(ctx);
    if (task.mode !== "task") {
      throw new SamError("conflict", "A conversation is not completed by the agent; the user ends it");
    }
    const active = await ctx.db.all<{ id: string; title: string; status: string }>(sql`
      SELECT id, title, status FROM tasks WHERE parent_id = ${task.id} AND status NOT IN (${terminalList})
      ORDER BY created_at, rowid`);
    if (active.length > 0 && !abandon) {
      const names = active.map((c) => `"${c.title}" (${c.id}, ${c.status})`).join(", ");
      throw new SamError(
        "conflict",
        `Subtasks are still active: ${names}. End your turn to be woken as each ends (or call wait_for_subtasks), ` +
          "or call complete_task with abandon: true to stop them.",
      );
    }
    // Recorded with the summary: the turn's end then finishes the task at once, whatever its children do.
    const [updated] = await ctx.db.all<{ id: string }>(sql`
      UPDATE tasks SET summary = ${summary}, pr_url = coalesce(${prUrl ?? null}, pr_url),
        complete_requested_at = ${NOW}, updated_at = ${NOW}
      -- A turn that a child's end started may still show the task as waiting (its start is on its way).
      WHERE id = ${task.id} AND status IN ('running', 'awaiting_subtasks')
      RETURNING id`);
    if (!updated) throw new SamError("conflict", `The task is ${task.status}, not running`);
    const controller = { kind: "task" as const, taskId: task.id, projectId: task.projectId };
    for (const child of active) {
      await stopSubtask(ctx.db, controller, {
        taskId: child.id,
        reason: "its parent completed without it (complete_task with abandon)",
      }).catch((err: unknown) => {
        // It ended meanwhile: nothing to stop.
        if (!(SamError.is(err) && err.code === "conflict")) throw err;
      });
    }
    return {
      ok: true,
      message: "Summary recorded. End your turn: your work is committed and pushed, then the task completes.",
      ...(active.length > 0 ? { abandoned: active.map((c) => c.id) } : {}),
    };
  },
});
