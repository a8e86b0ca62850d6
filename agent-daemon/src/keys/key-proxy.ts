/**
 * A session's key endpoint: a loopback HTTP server that forwards the agent's model requests to the
 * provider, adding the real key. The agent only ever holds a per-session dummy key, which this
 * endpoint requires and strips, so the real key never enters an agent's process, environment or
 * files. Responses stream through as they arrive. Nothing here logs a request or a key.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { ModelProvider } from "../agents/registry.ts";

/** Where each provider is reached when the project names no base URL. */
export const DEFAULT_BASE_URLS: Record<Exclude<ModelProvider, "openai-compatible">, string> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  google: "https://generativelanguage.googleapis.com/v1beta",
};

// Every header a client may carry a key in: the dummy is looked for in each, and none is passed on.
const KEY_HEADERS = ["authorization", "x-api-key", "x-goog-api-key", "api-key"] as const;
// Connection-level headers belong to one hop (RFC 9110 §7.6.1); `host` is the upstream's own.
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

export interface KeyProxyOptions {
  provider: ModelProvider;
  /** The provider's real base URL (the project's, or the provider's default). */
  upstream: string;
  /** The real key; an OpenAI-compatible server may need none. */
  apiKey?: string;
  /**
   * Called (with the message the agent is answered) each time the model server could not be reached
   * UNREACHABLE_LIMIT times in a row: the session gives up then instead of waiting out the agent's
   * own retries, which can take minutes against a server that is not there.
   */
  onUnreachable?: (message: string) => void;
}

/** Connection failures in a row, with no answer from the model server between them, that end a session. */
export const UNREACHABLE_LIMIT = 3;

export interface KeyProxy {
  /** The dummy key the agent presents. */
  dummyKey: string;
  /** The endpoint's base URL on the host's loopback, in the upstream's shape (same path). */
  baseUrl: string;
  /** The same base URL for an agent that reaches this endpoint on another origin (a forwarded port). */
  baseUrlAt(origin: string): string;
  /** Also serves on a Unix socket (bound into a sandbox without network). */
  listenOnSocket(socketPath: string, owner?: { uid: number; gid: number }): Promise<void>;
  close(): Promise<void>;
}

/** An error body in the provider's own format, so the agent shows its message as it would the provider's. */
function providerError(provider: ModelProvider, status: number, message: string): string {
  switch (provider) {
    case "anthropic":
      return JSON.stringify({
        type: "error",
        error: { type: status === 401 ? "authentication_error" : "api_error", message },
      });
    case "google":
      return JSON.stringify({
        error: { code: status, message, status: status === 401 ? "UNAUTHENTICATED" : "UNAVAILABLE" },
      });
    default:
      return JSON.stringify({
        error: {
          message,
          type: status === 401 ? "invalid_request_error" : "api_error",
          code: status === 401 ? "invalid_api_key" : "upstream_unreachable",
        },
      });
  }
}

function presentedKeys(req: http.IncomingMessage, url: URL): string[] {
  const keys: string[] = [];
  for (const name of KEY_HEADERS) {
    const value = req.headers[name];
    if (typeof value === "string") keys.push(value.replace(/^Bearer\s+/i, "").trim());
  }
  const query = url.searchParams.get("key");
  if (query) keys.push(query);
  return keys;
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The header that carries the real key, as each provider expects it. */
function keyHeader(provider: ModelProvider, apiKey: string): Record<string, string> {
  switch (provider) {
    case "anthropic":
      return { "x-api-key": apiKey };
    case "google":
      return { "x-goog-api-key": apiKey };
    default:
      return { authorization: `Bearer ${apiKey}` };
  }
}

/** Marks an error the key endpoint answered itself (the provider was never reached, or refused the caller). */
export const KEY_ENDPOINT_HEADER = "x-sam-key-endpoint";

export async function startKeyProxy(options: KeyProxyOptions): Promise<KeyProxy> {
  const upstream = new URL(options.upstream);
  const prefix = upstream.pathname.replace(/\/$/, "");
  const transport = upstream.protocol === "https:" ? https : http;
  const dummyKey = `sam-dummy-${randomBytes(24).toString("hex")}`;
  // Keep-alive to the provider: a turn's requests reuse one connection instead of a handshake each.
  const agent = new transport.Agent({ keepAlive: true });
  let unreachableInARow = 0;

  const answer = (res: http.ServerResponse, status: number, message: string) => {
    const body = providerError(options.provider, status, message);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      // Says the answer is the endpoint's own, not the provider's, so agents can word it as such.
      [KEY_ENDPOINT_HEADER]: "1",
    });
    res.end(body);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://key-endpoint");
    if (!presentedKeys(req, url).some((key) => sameKey(key, dummyKey))) {
      answer(res, 401, "SAM's model key endpoint refused the request: it did not carry this session's key");
      return;
    }
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
      answer(res, 404, `SAM's model key endpoint only forwards requests under ${prefix || "/"}`);
      return;
    }
    url.searchParams.delete("key");
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_HEADERS.has(name) || (KEY_HEADERS as readonly string[]).includes(name)) continue;
      headers[name] = value;
    }
    if (options.apiKey) Object.assign(headers, keyHeader(options.provider, options.apiKey));
    const forward = transport.request(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: url.pathname + url.search,
        headers,
        agent,
      },
      (reply) => {
        unreachableInARow = 0;
        const replyHeaders = { ...reply.headers };
        for (const name of HOP_HEADERS) delete replyHeaders[name];
        res.writeHead(reply.statusCode ?? 502, replyHeaders);
        // Streamed responses (server-sent events) go out chunk by chunk, as they come.
        res.flushHeaders();
        reply.pipe(res);
        reply.once("error", () => res.destroy());
      },
    );
    forward.once("error", (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const cause = err.code ? `${err.code}: ${err.message}` : err.message;
      const message = `the model server at ${options.upstream} cannot be reached (${cause})`;
      answer(res, 502, message);
      // An agent hanging up is not the server's failure.
      if (!res.destroyed && ++unreachableInARow >= UNREACHABLE_LIMIT) options.onUnreachable?.(message);
    });
    req.pipe(forward);
    // An agent that hangs up (a cancelled turn) ends the provider's request too.
    res.once("close", () => {
      if (!res.writableFinished) forward.destroy();
    });
  };

  const servers: http.Server[] = [];
  const serve = async (listen: (server: http.Server, done: () => void) => void) => {
    const server = http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      listen(server, resolve);
    });
    servers.push(server);
    return server;
  };

  const tcp = await serve((server, done) => server.listen(0, "127.0.0.1", done));
  const { port } = tcp.address() as AddressInfo;
  const baseUrlAt = (origin: string) => `${origin}${prefix}`;

  return {
    dummyKey,
    baseUrl: baseUrlAt(`http://127.0.0.1:${port}`),
    baseUrlAt,
    async listenOnSocket(socketPath, owner) {
      fs.rmSync(socketPath, { force: true });
      await serve((server, done) => server.listen(socketPath, done));
      // Connecting to a Unix socket takes write permission on it.
      if (owner) fs.chownSync(socketPath, owner.uid, owner.gid);
      fs.chmodSync(socketPath, 0o600);
    },
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
      agent.destroy();
    },
  };
}
