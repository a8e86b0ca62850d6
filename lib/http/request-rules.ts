import { SamError } from "../errors";

/** What every request body is held to unless a route says otherwise (SAM_MAX_BODY_BYTES). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request may change state: everything but GET, HEAD and OPTIONS. */
export function changesState(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Two origins are the same, counting the loopback names of one machine as one (SAM's default address). */
function sameOrigin(a: URL, b: URL): boolean {
  if (a.origin === b.origin) return true;
  return (
    a.protocol === b.protocol && a.port === b.port && LOOPBACK_HOSTS.has(a.hostname) && LOOPBACK_HOSTS.has(b.hostname)
  );
}

/**
 * The cross-origin rule for a request that changes state. A browser always says where such a request
 * comes from (Origin, and Sec-Fetch-Site in current browsers); it must come from SAM's public origin,
 * so that another site, even one on the same host (which SameSite cookies do not stop), cannot act with
 * a signed-in user's cookie. A request that says nothing is not from a browser (the CLI, daemons, MCP
 * clients, cron): no cookie rides along with it by itself, so its credentials alone decide.
 */
export function assertSameOrigin(headers: Headers, publicUrl: string): void {
  const expected = new URL(publicUrl);
  const origin = headers.get("origin");
  const site = headers.get("sec-fetch-site");
  if (origin !== null && (!URL.canParse(origin) || !sameOrigin(new URL(origin), expected))) {
    throw new SamError(
      "forbidden",
      `Cross-origin request refused: it comes from ${origin}, not from ${expected.origin} ` +
        "(SAM's public URL; set SAM_PUBLIC_URL if browsers reach SAM at another address)",
    );
  }
  if (site !== null && site !== "same-origin") {
    throw new SamError("forbidden", `Cross-origin request refused: it comes from a ${site} page, not from SAM's own`);
  }
}

function bytesLabel(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function tooLarge(maxBytes: number): SamError {
  return new SamError("payload_too_large", `The request body is larger than the ${bytesLabel(maxBytes)} limit`, {
    maxBytes,
  });
}

/** Refuses a body whose declared length is over the cap before any of it is read. */
export function assertDeclaredLengthWithin(headers: Headers, maxBytes: number): void {
  const declared = Number(headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
}

/** Refuses a body that is not declared as JSON, naming what was sent instead. */
export function assertJsonContentType(headers: Headers): void {
  const type = headers.get("content-type");
  const mediaType = type?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new SamError(
      "unsupported_media_type",
      `The request body must be JSON sent as Content-Type: application/json (got ${type ? JSON.stringify(type) : "no Content-Type"})`,
    );
  }
}

/** The body as text, read no further than `maxBytes`: a chunked body declares no length to check first. */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  assertDeclaredLengthWithin(req.headers, maxBytes);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A Node request's body as text, read no further than the cap (a declared length over it is refused
 * before, by `assertDeclaredLengthWithin`); leaving the loop early destroys the request.
 */
export async function readStreamText(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<string> {
  const read: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    read.push(chunk);
  }
  return Buffer.concat(read).toString("utf8");
}
