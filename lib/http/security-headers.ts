export interface PolicyOptions {
  /** A fresh random value per response: Next puts it on the scripts and styles it writes into a page. */
  nonce: string;
  /** Next's dev server evaluates code and injects styles at run time. */
  dev: boolean;
  /** Origins a form may post to or be redirected to besides SAM itself (GitHub's sign-in). */
  formTargets: string[];
  /** Ask the browser to upgrade http subresources: only where SAM itself is served over https. */
  https: boolean;
}

/**
 * The content security policy of every response. Scripts need the response's nonce ('strict-dynamic'
 * lets the scripts it admits load Next's chunks), so an injected script runs nowhere. Style attributes
 * stay allowed: React renders some (a progress bar's width, a dragged card's offset) into the server's
 * HTML, where no nonce can reach them; style elements still need the nonce.
 */
export function contentSecurityPolicy({ nonce, dev, formTargets, https }: PolicyOptions): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    dev ? "style-src 'self' 'unsafe-inline'" : `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    ["form-action 'self'", ...formTargets].join(" "),
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ];
  return directives.join("; ");
}

/** The policy of an answer that is data (JSON), never a page: nothing may load from it or frame it. */
export const API_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** The headers every response carries: the policy above, no framing, no sniffing, no referrer to other sites. */
export function securityHeaders(policy: string): Record<string, string> {
  return {
    "content-security-policy": policy,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    // `same-origin`, not `no-referrer`: with no-referrer a browser sends `Origin: null` on SAM's own
    // form posts, which the cross-origin rule would refuse. Other sites never see a URL of SAM's (a
    // one-time sign-in link is one).
    "referrer-policy": "same-origin",
  };
}
