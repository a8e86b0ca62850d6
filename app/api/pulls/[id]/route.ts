import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getPullRequestFor } from "@/lib/pulls/access";
import { showPullRequest } from "@/lib/pulls/pull-json";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** A pull request whole: its figures, files, commits, whether it merges (and what conflicts), its comments. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    return Response.json(await showPullRequest(db, await getPullRequestFor(db, { userId: user.id }, id)));
  });
}
