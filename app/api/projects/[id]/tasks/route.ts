import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { loadSidebarPage } from "@/lib/sidebar/load-sidebar";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * One page of the project's sessions and tasks as the sidebar shows them: `?filter=` (all, active,
 * blocked, failed, done), `?q=` (search text in titles), `?cursor=` (the previous page's nextCursor), `?limit=` (1–100, default 30).
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const query = Object.fromEntries(new URL(req.url).searchParams);
    return Response.json(await loadSidebarPage(getDb(), user.id, id, query));
  });
}
