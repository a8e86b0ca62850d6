import type { NextRequest } from "next/server";
import { handlers } from "@/app/auth";
import { loadConfig } from "@/lib/config";

/**
 * Auth.js builds its OAuth callback URL from the request's URL, which must be the one the sign-in
 * started from. Next reports a loopback host (SAM's default 127.0.0.1) as "localhost", so the request
 * is handed on at the public URL instead, as a plain Request that Next does not rewrite. An operator's
 * own AUTH_URL is left to Auth.js.
 */
function atPublicUrl(req: NextRequest): NextRequest {
  if (process.env.AUTH_URL) return req;
  const url = new URL(`${req.nextUrl.pathname}${req.nextUrl.search}`, loadConfig().publicUrl);
  const init = { method: req.method, headers: req.headers, body: req.body, duplex: "half" } as RequestInit;
  return new Request(url, init) as NextRequest;
}

export const GET = (req: NextRequest) => handlers.GET(atPublicUrl(req));
export const POST = (req: NextRequest) => handlers.POST(atPublicUrl(req));
