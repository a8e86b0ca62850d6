import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getTaskForUser, taskDetails } from "@/lib/tasks/show-task";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** A task with its children, dependencies, session and status history. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    return Response.json(await taskDetails(db, await getTaskForUser(db, user.id, id)));
  });
}
