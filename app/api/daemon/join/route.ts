import { joinRequestSchema } from "@sam/agent-daemon/contract";
import { handle, jsonBody } from "@/app/api/handle";
import { getDb } from "@/db/client";
import { loadConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";
import { joinNode } from "@/lib/nodes/join";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

/**
 * The web app's address as the joining machine reached it (through a proxy, as the proxy says):
 * where its agents will reach the MCP endpoint.
 */
function reachedAt(req: Request): string {
  const url = new URL(req.url);
  const host = req.headers.get("x-forwarded-host")?.split(",")[0]?.trim() || req.headers.get("host") || url.host;
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() || url.protocol.replace(/:$/, "");
  const origin = `${proto}://${host}`;
  if (!/^https?$/.test(proto) || !URL.canParse(origin)) {
    throw new SamError("invalid_input", "The request does not say which address it was sent to");
  }
  return new URL(origin).origin;
}

/** A machine spends a one-use join token for its node credential (`sam daemon --join`). */
export async function POST(req: Request) {
  return handle(async () => {
    const input = parseInput(joinRequestSchema, await jsonBody(req));
    const joined = await joinNode(getDb(), input, reachedAt(req), loadConfig().scheduler.heartbeatMs);
    return Response.json(joined, { status: 201 });
  });
}
