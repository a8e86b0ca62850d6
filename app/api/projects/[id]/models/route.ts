import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { listProjectModels } from "@/lib/models/project-connection";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * The provider's models, fetched live with the project's key: ?provider=&baseUrl= (validated by
 * `modelConnectionSchema`). Any member may list the saved server's; only an owner may try another.
 * A provider that cannot be reached or refuses the key is a 503 whose message says which.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const query = Object.fromEntries(new URL(req.url).searchParams);
    return Response.json({ models: await listProjectModels(getDb(), user.id, id, query) });
  });
}
