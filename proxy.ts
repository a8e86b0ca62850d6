import { randomBytes } from "node:crypto";
import { type NextRequest, NextResponse } from "next/server";
import { loadConfig } from "@/lib/config";
import { errorResponse } from "@/lib/errors";
import { assertDeclaredLengthWithin, assertSameOrigin, changesState } from "@/lib/http/request-rules";
import { contentSecurityPolicy, securityHeaders } from "@/lib/http/security-headers";

/**
 * Runs before every page, route handler and server action: one place refuses a cross-origin or
 * oversized request that would change state, so no route or action can forget to, and gives every
 * response its security headers with a fresh nonce that Next puts on its own scripts.
 */
export function proxy(request: NextRequest) {
  const samConfig = loadConfig();
  const policy = contentSecurityPolicy({
    nonce: randomBytes(16).toString("base64"),
    dev: process.env.NODE_ENV === "development",
    formTargets: samConfig.github ? [new URL(samConfig.github.enterpriseUrl ?? "https://github.com").origin] : [],
    https: samConfig.publicUrl.startsWith("https:"),
  });
  const headers = securityHeaders(policy);
  if (changesState(request.method)) {
    try {
      assertSameOrigin(request.headers, samConfig.publicUrl);
      assertDeclaredLengthWithin(request.headers, samConfig.maxBodyBytes);
    } catch (err) {
      return errorResponse(err, headers);
    }
  }
  // Next reads the nonce from the request's policy header while it renders the page.
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export const config = {
  // Not Next's static files, which have no state to change and no nonce to carry. Not the daemons'
  // routes either: Next buffers (and past 10 MB cuts) the body of every request a proxy sees, and an
  // event batch may be larger than a browser's request; those routes take a node's bearer token,
  // never a cookie, and cap their bodies themselves.
  matcher: ["/((?!_next/static|_next/image|favicon.ico|api/daemon/).*)"],
};
