import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getPullRequestFor } from "@/lib/pulls/access";
import { mergePullRequest, mergePullRequestSchema } from "@/lib/pulls/merge";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * Merges an open pull request into its base branch: {strategy?: merge|squash|rebase}, default merge.
 * Answers {state: "merged", mergeCommit}; a conflict or a dirty checked-out base is a 409 saying why.
 */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    // Access first: to a non-member the PR does not exist, whatever the body says.
    const pr = await getPullRequestFor(db, { userId: user.id }, id);
    const { strategy } = parseInput(mergePullRequestSchema, await jsonBody(req));
    return Response.json(await mergePullRequest(db, pr, { userId: user.id, strategy }));
  });
}
