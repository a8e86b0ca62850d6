import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { removeNode } from "@/lib/nodes/manage";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * Removes a node: its credential is refused from now on and its tasks are re-queued elsewhere; the
 * instance admin only. No body.
 */
export async function POST(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json(await removeNode(getDb(), { userId: user.id }, id));
  });
}
