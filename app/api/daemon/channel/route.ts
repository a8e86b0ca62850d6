import { channelRequestSchema } from "@sam/agent-daemon/contract";
import { handle, jsonBody } from "@/app/api/handle";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { openChannel } from "@/lib/nodes/channel";
import { authenticateNodeToken } from "@/lib/nodes/node-tokens";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";
// The channel ends by itself before this (see CHANNEL_MAX_MS); the node reconnects at once.
export const maxDuration = 60;

/** A joined or cloud node holds this open: its commands, as NDJSON lines, as they are written. */
export async function POST(req: Request) {
  return handle(async () => {
    const db = getDb();
    const node = await authenticateNodeToken(db, req.headers.get("authorization"));
    const hello = parseInput(channelRequestSchema, await jsonBody(req));
    if (hello.nodeId !== node.id) throw new SamError("forbidden", "The channel request names another node");
    if (node.provider === "local") throw new SamError("conflict", "A local node is called over HTTP, not by channel");
    // Its credential ends with it: the node retires when it hears this.
    if (node.status === "lost" || node.status === "destroyed") {
      throw new SamError("unauthenticated", `This node is ${node.status}; join the machine again with a new token`);
    }
    return new Response(openChannel(db, node.id, hello, req.signal), {
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        // no-transform: compression would hold commands back until a buffer fills.
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
}
