import { z } from "zod";
import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { loadTaskGraph } from "@/lib/graph/load-task-graph";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string; taskId: string }>;
}

const paramsSchema = z
  .object({
    id: z.string().min(1, { message: "A project id is required" }).max(100, { message: "is not a project id" }),
    taskId: z.string().min(1, { message: "A task id is required" }).max(100, { message: "is not a task id" }),
  })
  .strict();

/**
 * The task graph of the tree `taskId` belongs to: every task of its root's tree (status, agent, PR,
 * blocked, active subtasks) and the dependency edges among them, with `focusId` the task asked for.
 */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id, taskId } = parseInput(paramsSchema, await params);
    return Response.json(await loadTaskGraph(getDb(), user.id, id, taskId));
  });
}
