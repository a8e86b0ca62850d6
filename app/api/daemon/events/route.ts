import { eventBatchSchema } from "@sam/agent-daemon/contract";
import { handle, jsonBody } from "@/app/api/handle";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { ingestEvents } from "@/lib/events/ingest";
import { authenticateNodeToken } from "@/lib/nodes/node-tokens";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

// A daemon keeps a batch near 1 MB of payload past its first event, whose size it does not cap (a
// written file, a long tool output); a batch refused here would be retried for ever. The node token
// is checked before the body is read, so only a node can send this much.
const EVENT_BATCH_MAX_BYTES = 32 * 1024 * 1024;

/** A daemon ships a batch of numbered events; each (session, seq) is stored once. */
export async function POST(req: Request) {
  return handle(async () => {
    const db = getDb();
    const node = await authenticateNodeToken(db, req.headers.get("authorization"));
    const batch = parseInput(eventBatchSchema, await jsonBody(req, { maxBytes: EVENT_BATCH_MAX_BYTES }));
    if (batch.nodeId !== node.id) throw new SamError("forbidden", "The batch names another node");
    return Response.json(await ingestEvents(db, node.id, batch.events));
  });
}
