import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { jumpSearch } from "@/lib/search/jump-search";

export const dynamic = "force-dynamic";

/**
 * The command palette's search: `?q=` (what was typed), `?projectId=` (whose results come first),
 * `?limit=` (1–50, default 20) → `{results: [{kind, id, title, projectId, projectName, status, href}]}`.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const query = Object.fromEntries(new URL(req.url).searchParams);
    return Response.json({ results: await jumpSearch(getDb(), user.id, query) });
  });
}
