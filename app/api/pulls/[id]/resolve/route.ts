import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getPullRequestFor } from "@/lib/pulls/access";
import { askAgentToResolve, resolveConflictsSchema } from "@/lib/pulls/revise";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** Asks an agent to resolve the PR's conflicts with its base {note?}: a revision task on its branch. */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const pr = await getPullRequestFor(db, { userId: user.id }, id);
    const input = parseInput(resolveConflictsSchema, await jsonBody(req));
    return Response.json(await askAgentToResolve(db, pr, { ...input, userId: user.id }));
  });
}
