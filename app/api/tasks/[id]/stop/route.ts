import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { stopSubtask, stopSubtaskSchema } from "@/lib/orchestrator/stop";
import { userControllerFor } from "@/lib/orchestrator/user-controller";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

const bodySchema = stopSubtaskSchema.omit({ taskId: true });

interface Params {
  params: Promise<{ id: string }>;
}

/** Stops a task as the project's user: {reason?, graceSeconds?}; the task page's Stop button does the same. */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const body = parseInput(bodySchema, await jsonBody(req));
    const db = getDb();
    const { controller } = await userControllerFor(db, user.id, id);
    return Response.json(await stopSubtask(db, controller, { ...body, taskId: id }));
  });
}
