import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getPullRequestFor } from "@/lib/pulls/access";
import { addComment, commentSchema, listComments, type PullRequestComment } from "@/lib/pulls/comments";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** A comment as `GET /api/pulls/<id>` lists it. */
function commentJson(c: PullRequestComment) {
  return {
    id: c.id,
    author: c.authorName,
    body: c.body,
    path: c.path,
    line: c.line,
    createdAt: c.createdAt.toISOString(),
    sentAt: c.sentAt?.toISOString() ?? null,
  };
}

/** The pull request's comments, oldest first. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const pr = await getPullRequestFor(db, { userId: user.id }, id);
    return Response.json((await listComments(db, pr.id)).map(commentJson));
  });
}

/** A comment {body, path?, line?}: on the whole pull request, or on a line of a file of its head (both given). */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const pr = await getPullRequestFor(db, { userId: user.id }, id);
    const input = parseInput(commentSchema, await jsonBody(req));
    return Response.json(commentJson(await addComment(db, pr, user.id, input)), { status: 201 });
  });
}
