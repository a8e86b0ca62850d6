import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getPullRequestFor } from "@/lib/pulls/access";
import { pullRequestDiff } from "@/lib/pulls/pull-json";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** Every changed file of a pull request with its unified diff (`patch`), as the PR page renders them. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    return Response.json(await pullRequestDiff(db, await getPullRequestFor(db, { userId: user.id }, id)));
  });
}
