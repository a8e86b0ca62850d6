import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getPullRequestFor } from "@/lib/pulls/access";
import { requestChanges, requestChangesSchema } from "@/lib/pulls/revise";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * Requests changes {body?}: the PR's unsent comments (and the body, if given) go to its task's agent,
 * in its session if it is alive, otherwise to a revision task on the same branch.
 */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const pr = await getPullRequestFor(db, { userId: user.id }, id);
    const input = parseInput(requestChangesSchema, await jsonBody(req));
    return Response.json(await requestChanges(db, pr, { ...input, userId: user.id }));
  });
}
