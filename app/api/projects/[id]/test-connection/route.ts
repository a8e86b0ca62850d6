import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { testProjectConnection } from "@/lib/models/project-connection";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * Settings' Test connection: {provider, baseUrl?, model?} (validated by `modelConnectionSchema`).
 * Answers 200 {ok, message, problem?, models?} whatever the provider said; the message is for the user.
 */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json(await testProjectConnection(getDb(), user.id, id, await jsonBody(req)));
  });
}
