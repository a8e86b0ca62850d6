/**
 * `npm start`: migrate, build if needed, serve, and print a one-time sign-in link — everything a
 * fresh clone needs, with the embedded defaults (a libSQL file under ./data).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { getDb, openDb } from "@/db/client";
import { applyMigrations } from "@/db/migrate";
import { createLoginLink } from "@/lib/auth/login-links";
import { loadConfig } from "@/lib/config";
import { authSecret, secretKey } from "@/lib/instance-secrets";
import { isMcpPost, serveMcpPost } from "@/lib/mcp/node-endpoint";
import { removeServerRecord, writeServerRecord } from "@/lib/running-server";
import { ensureInstanceOwner } from "@/lib/users";
import { ensureBuilt } from "./build-state";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main() {
  const config = loadConfig();
  const db = openDb({ url: config.databaseUrl, authToken: config.databaseAuthToken });
  await applyMigrations(db);
  // Generated once into the data dir when not given, then shared with the server through the env.
  process.env.AUTH_SECRET = authSecret(config.dataDir, config.authSecret);
  secretKey(config.dataDir, config.secretKey);
  // The instance owner (the admin) is the first user: made before anyone can sign in.
  const owner = await ensureInstanceOwner(db);
  await ensureBuilt();

  // Listen first: the port (PORT=0 picks one) must be known before the scheduler starts daemons
  // that call back. Requests that arrive while Next prepares get a 503.
  let handle: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | undefined;
  const server = http.createServer((req, res) => {
    if (!handle) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      res.end(JSON.stringify({ error: { code: "unavailable", message: "SAM is starting" } }));
      return;
    }
    // Agents' tool calls skip Next's request pipeline; the endpoint applies the same rules itself.
    const served = isMcpPost(req) ? serveMcpPost(getDb(), req, res) : handle(req, res);
    served.catch((err: unknown) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = process.env.SAM_PUBLIC_URL ? config.publicUrl : `http://${urlHost(config.host)}:${port}`;
  process.env.SAM_INTERNAL_URL ??= `http://${urlHost(config.host)}:${port}`;
  // The cross-origin rule and the OAuth callback URL use the public URL, which must name the real port.
  process.env.SAM_PUBLIC_URL = baseUrl;

  const app = next({ dev: false, dir: root, hostname: config.host, port });
  await app.prepare();
  handle = app.getRequestHandler();

  // `sam login-link` reads what is served from here; a clean stop takes it away.
  writeServerRecord(config.dataDir, { url: baseUrl, pid: process.pid, startedAt: new Date().toISOString() });
  process.on("exit", () => removeServerRecord(config.dataDir));

  const link = await createLoginLink(db, { userId: owner.id, baseUrl, ttlMs: config.loginLinkTtlMs });
  console.log(`SAM is running at ${baseUrl} (data: ${config.dataDir})`);
  console.log("Sign in with this one-time link (or run `npx sam login-link` for a new one):");
  console.log(link.url);

  const stop = () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
