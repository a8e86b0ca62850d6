import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Db } from "@/db/client";
import { loadConfig } from "../config";
import { errorResponse } from "../errors";
import { assertDeclaredLengthWithin, assertSameOrigin } from "../http/request-rules";
import { contentSecurityPolicy, securityHeaders } from "../http/security-headers";
import { handleMcpRequest } from "./server";

/** Whether a request is a POST to the MCP endpoint (the only method it serves). */
export function isMcpPost(req: IncomingMessage): boolean {
  return req.method === "POST" && (req.url === "/api/mcp" || req.url?.startsWith("/api/mcp?") === true);
}

let config: ReturnType<typeof loadConfig> | undefined;

/**
 * Serves a POST to /api/mcp straight from SAM's own HTTP server, without Next's request pipeline
 * (its router, proxy and streamed, compressed responses cost several times the tool call itself).
 * The same rules as through Next: the proxy's cross-origin and declared-length checks, the
 * security headers on the answer, then the route's handler.
 */
export async function serveMcpPost(db: Db, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Read once the server has set its public URL (at start), then fixed for the process.
  config ??= loadConfig();
  const security = securityHeaders(
    contentSecurityPolicy({
      nonce: randomBytes(16).toString("base64"),
      dev: false,
      formTargets: config.github ? [new URL(config.github.enterpriseUrl ?? "https://github.com").origin] : [],
      https: config.publicUrl.startsWith("https:"),
    }),
  );
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  let response: Response;
  try {
    assertSameOrigin(headers, config.publicUrl);
    assertDeclaredLengthWithin(headers, config.maxBodyBytes);
    const request = new Request(new URL(req.url ?? "/api/mcp", config.publicUrl), {
      method: "POST",
      headers,
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit);
    response = await handleMcpRequest(db, request, { maxBodyBytes: config.maxBodyBytes });
  } catch (err) {
    response = errorResponse(err);
  }
  const body = Buffer.from(await response.arrayBuffer());
  const out: Record<string, string | string[]> = { ...security };
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  out["content-length"] = String(body.length);
  res.writeHead(response.status, out);
  res.end(body);
}
