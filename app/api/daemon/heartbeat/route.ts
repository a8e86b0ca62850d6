import { heartbeatRequestSchema } from "@sam/agent-daemon/contract";
import { handle, jsonBody } from "@/app/api/handle";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { recordHeartbeat } from "@/lib/nodes/lost-nodes";
import { authenticateNodeToken } from "@/lib/nodes/node-tokens";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return handle(async () => {
    const db = getDb();
    const node = await authenticateNodeToken(db, req.headers.get("authorization"));
    const beat = parseInput(heartbeatRequestSchema, await jsonBody(req));
    if (beat.nodeId !== node.id) throw new SamError("forbidden", "The heartbeat names another node");
    const alive = await recordHeartbeat(db, node.id, beat.url, beat.sandbox, beat.version);
    if (!alive) throw new SamError("conflict", "This node was declared lost; start a new one");
    return Response.json({ ok: true });
  });
}
