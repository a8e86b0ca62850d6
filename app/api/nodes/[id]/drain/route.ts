import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { drainNode } from "@/lib/nodes/manage";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** Drains a node (no new work; running tasks finish); the instance admin only. No body. */
export async function POST(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json(await drainNode(getDb(), { userId: user.id }, id));
  });
}
