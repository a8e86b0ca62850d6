import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** Serves one HTTP request with git, or answers false when it is not a git request. */
export type GitHttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

// The smart HTTP protocol's requests: ref discovery, then upload-pack (fetch) or receive-pack (push).
const GIT_PATH = /^\/[^/]+\/[^/]+\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

/**
 * git's own smart HTTP server, `git http-backend`, run as the CGI program it is for each request
 * under `root`: http://HOST/<owner>/<repo>.git serves the bare repository <root>/<owner>/<repo>.git.
 * Pushes are anonymous: a repository takes them when its config says `http.receivepack = true`.
 */
export function gitHttpHandler(root: string): GitHttpHandler {
  return (req, res) => {
    const target = new URL(req.url ?? "/", "http://git.invalid");
    if (!GIT_PATH.test(target.pathname)) return false;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      GATEWAY_INTERFACE: "CGI/1.1",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(target.pathname),
      QUERY_STRING: target.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      // git sends its request bodies chunked; the backend reads to the end of its input.
      ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
      ...(req.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] } : {}),
      ...(typeof req.headers["git-protocol"] === "string" ? { GIT_PROTOCOL: req.headers["git-protocol"] } : {}),
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    };
    const cgi = spawn("git", ["http-backend"], { env: env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    req.pipe(cgi.stdin);
    let stderr = "";
    cgi.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // A CGI answer is header lines, a blank line, then the body.
    let head = Buffer.alloc(0);
    let headersSent = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      const endLf = head.indexOf("\n\n");
      const split = end >= 0 ? { at: end, len: 4 } : endLf >= 0 ? { at: endLf, len: 2 } : undefined;
      if (!split) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, split.at).toString("latin1").split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      res.write(head.subarray(split.at + split.len));
    });
    cgi.on("close", (code) => {
      if (!headersSent) {
        res.writeHead(500, { "content-type": "text/plain" }).end(`git http-backend exited ${code}: ${stderr}`);
        return;
      }
      res.end();
    });
    return true;
  };
}

export interface GitHttpServer {
  /** http://127.0.0.1:PORT; a repository is at `${url}/<owner>/<repo>.git`. */
  url: string;
  stop: () => Promise<void>;
}

/** A git server on 127.0.0.1 for the bare repositories under `root` (see gitHttpHandler). */
export async function startGitHttpServer(root: string): Promise<GitHttpServer> {
  const handle = gitHttpHandler(root);
  const server = http.createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404, { "content-type": "text/plain" }).end("not a git repository path\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
