import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { listHumanRequests } from "@/lib/tasks/human-input";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** The questions the task's agent asked (request_human_input), oldest first, with their answers. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json(await listHumanRequests(getDb(), user.id, id));
  });
}
