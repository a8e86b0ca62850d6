import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getPullRequestFor } from "@/lib/pulls/access";
import { closePullRequest } from "@/lib/pulls/close";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** Closes an open pull request without merging it; it takes no body. Answers {state: "closed"}. */
export async function POST(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    return Response.json(
      await closePullRequest(db, await getPullRequestFor(db, { userId: user.id }, id), { userId: user.id }),
    );
  });
}
