import type { IncomingMessage, ServerResponse } from "node:http";
import type { Db } from "@/db/client";
import { loadConfig } from "../config";
import { errorResponse } from "../errors";
import { assertDeclaredLengthWithin, assertSameOrigin, readStreamText } from "../http/request-rules";
import { API_POLICY, securityHeaders } from "../http/security-headers";
import { answerMcpBody, jsonAnswerHeaders, mcpCaller, plainToolCallIn, toolCallAnswer } from "./server";

/** Whether a request is a POST to the MCP endpoint (the only method it serves). */
export function isMcpPost(req: IncomingMessage): boolean {
  return req.method === "POST" && (req.url === "/api/mcp" || req.url?.startsWith("/api/mcp?") === true);
}

let config: ReturnType<typeof loadConfig> | undefined;
// An answer here is always data, never a page: one fixed policy that lets nothing load or frame it.
const SECURITY = securityHeaders(API_POLICY);

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY, ...headers, "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * Serves a POST to /api/mcp straight from SAM's own HTTP server, without Next's request pipeline
 * (its router, proxy and streamed, compressed responses cost several times the tool call itself).
 * The same rules as through Next: the proxy's cross-origin and declared-length checks and security
 * headers, then the route's: the token before the body, the body no further than the cap. A plain
 * tool call is answered from the body's text, with no web Request or Response made for it.
 */
export async function serveMcpPost(db: Db, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Read once the server has set its public URL (at start), then fixed for the process.
  config ??= loadConfig();
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  let response: Response;
  try {
    assertSameOrigin(headers, config.publicUrl);
    assertDeclaredLengthWithin(headers, config.maxBodyBytes);
    const ctx = await mcpCaller(db, headers.get("authorization"));
    const text = await readStreamText(req, config.maxBodyBytes);
    const call = plainToolCallIn(headers, text);
    if (call) {
      const answer = await toolCallAnswer(ctx, call);
      return send(res, 200, jsonAnswerHeaders(answer), answer);
    }
    response = await answerMcpBody(ctx, new URL(req.url ?? "/api/mcp", config.publicUrl).href, headers, text);
  } catch (err) {
    response = errorResponse(err);
  }
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  send(res, response.status, out, Buffer.from(await response.arrayBuffer()));
}
