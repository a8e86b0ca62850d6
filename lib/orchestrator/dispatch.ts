import { and, eq, inArray, ne } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { tasks } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { titleFromPrompt } from "../tasks/branch-name";
import { parseInput } from "../validation";
import { childTaskStatements } from "./child-task";
import { explainRefusedChild } from "./limits";

const taskId = z.string().min(1).max(100);

export const dispatchInputSchema = z
  .object({
    description: z.string().trim().min(1).max(32_000),
    title: z.string().trim().min(1).max(200).optional(),
    mode: z.enum(["task", "conversation"]).default("task"),
    dependsOn: z
      .array(taskId)
      .max(100)
      .transform((ids) => [...new Set(ids)])
      .optional(),
    baseBranch: z
      .string()
      .trim()
      .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,250}$/, { message: "must be a branch name" })
      .optional(),
  })
  .strict();

export interface DispatchResult {
  taskId: string;
  status: "queued";
  blockedBy: string[];
}

/**
 * A parent task spawns a child in its own project, one level deeper, under the project's limits.
 * The limits are checked by the insert itself (see childTaskStatements); a refusal names the limit.
 */
export async function dispatchTask(
  db: Db,
  caller: { taskId: string; projectId: string; rootId?: string; depth?: number },
  input: unknown,
): Promise<DispatchResult> {
  const args = parseInput(dispatchInputSchema, input);
  // An authenticated caller comes with its place in the tree (its token was read with its task).
  const parent =
    caller.rootId !== undefined && caller.depth !== undefined
      ? { id: caller.taskId, projectId: caller.projectId, rootId: caller.rootId, depth: caller.depth }
      : (
          await db
            .select({ id: tasks.id, projectId: tasks.projectId, rootId: tasks.rootId, depth: tasks.depth })
            .from(tasks)
            .where(eq(tasks.id, caller.taskId))
        )[0];
  if (!parent) throw new SamError("not_found", "The calling task no longer exists");
  const spec = {
    parentId: parent.id,
    projectId: parent.projectId,
    rootId: parent.rootId,
    depth: parent.depth + 1,
    mode: args.mode,
    title: args.title ?? titleFromPrompt(args.description),
    description: args.description,
    baseBranch: args.baseBranch,
    dependsOn: args.dependsOn ?? [],
  };
  const { id, statements } = childTaskStatements(db, spec);
  const [inserted] = await db.batch(statements);
  if (inserted.rowsAffected === 0) throw await explainRefusedChild(db, spec);
  emitTaskChanged({ taskId: id, status: "queued" });
  const blockedBy =
    spec.dependsOn.length === 0
      ? []
      : (
          await db
            .select({ id: tasks.id })
            .from(tasks)
            .where(and(inArray(tasks.id, spec.dependsOn), ne(tasks.status, "completed")))
        ).map((t) => t.id);
  return { taskId: id, status: "queued", blockedBy };
}
