import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { removePendingSubtask } from "@/lib/orchestrator/remove";
import { userControllerFor } from "@/lib/orchestrator/user-controller";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** Removes a queued task that has not started, as the project's user; it takes no body. */
export async function POST(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const { controller } = await userControllerFor(db, user.id, id);
    return Response.json(await removePendingSubtask(db, controller, { taskId: id }));
  });
}
