/**
 * The one way out of a sandbox whose network is `none`: an HTTP server on a Unix socket, bound into
 * the sandbox at /run/sam, that forwards requests for SAM's MCP endpoint, and nothing else, to the
 * web app. The agent still presents its own task token; the bridge adds nothing to the request.
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";

// The headers an MCP client over Streamable HTTP sends; nothing else is passed on.
const FORWARDED_HEADERS = [
  "authorization",
  "content-type",
  "accept",
  "mcp-session-id",
  "mcp-protocol-version",
  "last-event-id",
] as const;

export interface McpBridge {
  /** Where requests go: set when the session starts (the sandbox may be started before). */
  setTarget(mcpUrl: string): void;
  close(): Promise<void>;
}

function refuse(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code: "forbidden", message } }));
}

/** Serves the bridge on `socketPath`; it forwards to the MCP endpoint once `setTarget` has named it. */
export async function startMcpBridge(socketPath: string, owner?: { uid: number; gid: number }): Promise<McpBridge> {
  let target: URL | undefined;
  const server = http.createServer((req, res) => {
    const to = target;
    if (!to) {
      refuse(res, 503, "SAM's MCP endpoint is not connected yet: the session has not started");
      return;
    }
    const transport = to.protocol === "https:" ? https : http;
    const url = new URL(req.url ?? "/", "http://sandbox");
    if (url.pathname !== to.pathname) {
      refuse(res, 403, `only SAM's MCP endpoint (${to.pathname}) is reachable from this sandbox`);
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    const upstream = transport.request(
      to,
      { method: req.method, headers, path: to.pathname + url.search },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) refuse(res, 502, `SAM's MCP endpoint cannot be reached: ${err.message}`);
      else res.destroy();
    });
    req.pipe(upstream);
  });
  fs.rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  // Connecting to a Unix socket takes write permission on it.
  if (owner) fs.chownSync(socketPath, owner.uid, owner.gid);
  fs.chmodSync(socketPath, 0o600);
  return {
    setTarget: (mcpUrl) => {
      target = new URL(mcpUrl);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
