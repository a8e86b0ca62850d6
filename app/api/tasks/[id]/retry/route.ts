import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { retryInputSchema, retrySubtask } from "@/lib/orchestrator/retry";
import { userControllerFor } from "@/lib/orchestrator/user-controller";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

const bodySchema = retryInputSchema.omit({ taskId: true });

interface Params {
  params: Promise<{ id: string }>;
}

/** Retries a failed task as the project's user: {extraContext?}; answers with the replacement (201). */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const body = parseInput(bodySchema, await jsonBody(req));
    const db = getDb();
    const { controller } = await userControllerFor(db, user.id, id);
    return Response.json(await retrySubtask(db, controller, { ...body, taskId: id }), { status: 201 });
  });
}
