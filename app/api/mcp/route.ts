import { getDb } from "@/db/client";
import { handleMcpRequest } from "@/lib/mcp/server";

export const dynamic = "force-dynamic";

/** MCP over Streamable HTTP; the bearer task token is the agent's identity. */
export async function POST(req: Request) {
  return handleMcpRequest(getDb(), req);
}

export async function GET(req: Request) {
  return handleMcpRequest(getDb(), req);
}

export async function DELETE(req: Request) {
  return handleMcpRequest(getDb(), req);
}
