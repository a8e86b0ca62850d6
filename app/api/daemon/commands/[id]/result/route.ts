import { commandResultSchema } from "@sam/agent-daemon/contract";
import { handle, jsonBody } from "@/app/api/handle";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { hasCommand, recordCommandResult } from "@/lib/nodes/channel";
import { authenticateNodeToken } from "@/lib/nodes/node-tokens";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

// A command's answer is a daemon route's JSON (a workspace, a session, a merge): small; the cap is
// generous so that no answer is refused.
const RESULT_MAX_BYTES = 4 * 1024 * 1024;

/** A node answers one of its commands; the first answer stands, a repeat is acknowledged. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  return handle(async () => {
    const db = getDb();
    const node = await authenticateNodeToken(db, req.headers.get("authorization"));
    const { id } = await ctx.params;
    const result = parseInput(commandResultSchema, await jsonBody(req, { maxBytes: RESULT_MAX_BYTES }));
    const recorded = await recordCommandResult(db, node.id, id, result);
    if (!recorded && !(await hasCommand(db, node.id, id))) {
      throw new SamError("not_found", `This node has no command ${id}`);
    }
    return Response.json({ recorded });
  });
}
