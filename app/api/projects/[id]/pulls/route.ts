import { z } from "zod";
import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { PULL_REQUEST_STATES } from "@/db/schema";
import { getProjectForUser } from "@/lib/projects/projects";
import { listPullRequests } from "@/lib/pulls/pull-json";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

const querySchema = z
  .object({
    state: z
      .enum(PULL_REQUEST_STATES, { message: `state must be one of ${PULL_REQUEST_STATES.join(", ")}` })
      .optional(),
  })
  .strict();

interface Params {
  params: Promise<{ id: string }>;
}

/** The project's pull requests, newest first; `?state=` (open, merged, closed) keeps those only. Members only. */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    await getProjectForUser(db, user.id, id);
    const { state } = parseInput(querySchema, Object.fromEntries(new URL(req.url).searchParams));
    return Response.json(await listPullRequests(db, id, state));
  });
}
