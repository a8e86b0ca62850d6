import { eventBatchSchema } from "@sam/agent-daemon/contract";
import { handle, jsonBody } from "@/app/api/handle";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { ingestEvents } from "@/lib/events/ingest";
import { authenticateNodeToken } from "@/lib/nodes/node-tokens";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

/** A daemon ships a batch of numbered events; each (session, seq) is stored once. */
export async function POST(req: Request) {
  return handle(async () => {
    const db = getDb();
    const node = await authenticateNodeToken(db, req.headers.get("authorization"));
    const batch = parseInput(eventBatchSchema, await jsonBody(req));
    if (batch.nodeId !== node.id) throw new SamError("forbidden", "The batch names another node");
    return Response.json(await ingestEvents(db, node.id, batch.events));
  });
}
