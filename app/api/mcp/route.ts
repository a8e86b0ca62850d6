import { getDb } from "@/db/client";
import { loadConfig } from "@/lib/config";
import { errorResponse, SamError } from "@/lib/errors";
import { handleMcpRequest } from "@/lib/mcp/server";

export const dynamic = "force-dynamic";

/** MCP over Streamable HTTP; the bearer task token is the agent's identity. */
export async function POST(req: Request) {
  return handleMcpRequest(getDb(), req, { maxBodyBytes: loadConfig().maxBodyBytes });
}

/**
 * SAM's MCP is stateless: there is no server-sent stream to open (GET) and no session to end
 * (DELETE). A 405 tells an MCP client so once; an empty stream had clients reconnect every second.
 */
function onlyPost(): Response {
  return errorResponse(new SamError("method_not_allowed", "SAM's MCP endpoint takes POST only (it is stateless)"), {
    allow: "POST",
  });
}

export const GET = onlyPost;
export const DELETE = onlyPost;
