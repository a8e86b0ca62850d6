import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { isForbiddenAddress, judgeWebhookUrl } from "./url";

/** What one POST to a webhook came to. Nothing in it repeats the URL. */
export interface PostOutcome {
  /** The receiver's HTTP status; null when none came (DNS, connection, timeout, refused address). */
  statusCode: number | null;
  /** Why it was not a 2xx, in words; null on success. */
  error: string | null;
  /** What a 429 or 503 asked for in Retry-After, in ms. */
  retryAfterMs: number | null;
  durationMs: number;
}

const FORBIDDEN_ADDRESS = "SAM_FORBIDDEN_ADDRESS";
/** How much of a refusal's body is kept in the log: enough for Slack's "invalid_payload" and the like. */
const BODY_SNIPPET_CHARS = 200;
/** How much of it is read: the whole URL is redacted from it before it is cut to the snippet. */
const BODY_READ_CHARS = 4096;

type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for the connection that refuses a link-local or cloud-metadata answer: the check and
 * the connect see the same addresses, so DNS rebinding cannot slip between them. `resolve` is the
 * system resolver; a test gives one that answers what an attacker's DNS would.
 */
export function guardedLookup(resolve: Resolver = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 4);
      if (addresses.length === 0 || addresses.some((a) => isForbiddenAddress(a.address))) {
        const refused = Object.assign(new Error("forbidden address"), { code: FORBIDDEN_ADDRESS });
        return callback(refused, "", 4);
      }
      if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** A transport failure in words, from its code only (messages can carry host names and paths). */
function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; name?: string };
  if (e.name === "AbortError" || e.name === "TimeoutError" || e.code === "ABORT_ERR") {
    return `no response within ${timeoutMs / 1000} s`;
  }
  switch (e.code) {
    case FORBIDDEN_ADDRESS:
      return "the host resolves to a link-local or cloud-metadata address; SAM does not post there";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve";
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
      return "connection reset";
    case "ETIMEDOUT":
      return "connection timed out";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      if (e.code && /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code)) return `TLS failed (${e.code})`;
      return `request failed (${e.code ?? e.name ?? "unknown error"})`;
  }
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfterMsOf(header: string | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * POSTs `body` to a webhook URL (judged again here: the rules may be newer than the row), with a
 * deadline for the whole exchange. Redirects are not followed: a 3xx is a failed attempt, so a
 * receiver cannot bounce SAM to an address the judgement refuses.
 */
export function postWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  lookup: LookupFunction = guardedLookup(),
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = judgeWebhookUrl(rawUrl);
  } catch (err) {
    return Promise.resolve({
      statusCode: null,
      error: (err as Error).message,
      retryAfterMs: null,
      durationMs: elapsed(),
    });
  }
  const send = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<PostOutcome, "durationMs">) => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, durationMs: elapsed() });
    };
    const req = send(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup,
        signal: AbortSignal.timeout(timeoutMs),
        // One connection per attempt: nothing pooled outlives the deadline.
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.resume();
          return finish({ statusCode: status, error: null, retryAfterMs: null });
        }
        const retryAfterMs =
          status === 429 || status === 503 ? retryAfterMsOf(res.headers["retry-after"]?.toString()) : null;
        let snippet = "";
        const done = () => {
          // A receiver may echo the request; the URL and its path (where tokens live) never reach the log.
          let text = snippet.replaceAll(url.href, "[webhook URL]");
          if (url.pathname.length > 1) text = text.replaceAll(url.pathname, "/…");
          if (url.search.length > 1) text = text.replaceAll(url.search.slice(1), "…");
          text = text.replace(/\s+/g, " ").trim().slice(0, BODY_SNIPPET_CHARS);
          finish({ statusCode: status, error: `HTTP ${status}${text ? `: ${text}` : ""}`, retryAfterMs });
          res.destroy();
        };
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          snippet += chunk;
          if (snippet.length >= BODY_READ_CHARS) {
            snippet = snippet.slice(0, BODY_READ_CHARS);
            done();
          }
        });
        res.on("end", done);
        res.on("error", done);
      },
    );
    req.on("error", (err) => finish({ statusCode: null, error: describeFailure(err, timeoutMs), retryAfterMs: null }));
    req.end(body);
  });
}
