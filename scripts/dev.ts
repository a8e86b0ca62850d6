/** `npm run dev`: migrate, then Next's dev server with the same data dir and secrets as `npm start`. */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openDb } from "@/db/client";
import { applyMigrations } from "@/db/migrate";
import { createLoginLink } from "@/lib/auth/login-links";
import { loadConfig } from "@/lib/config";
import { authSecret, secretKey } from "@/lib/instance-secrets";
import { ensureInstanceOwner } from "@/lib/users";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const config = loadConfig();
const db = openDb({ url: config.databaseUrl, authToken: config.databaseAuthToken });
await applyMigrations(db);
const env = { ...process.env, AUTH_SECRET: authSecret(config.dataDir, config.authSecret) };
secretKey(config.dataDir, config.secretKey);
const owner = await ensureInstanceOwner(db);
const link = await createLoginLink(db, { userId: owner.id, baseUrl: config.publicUrl, ttlMs: config.loginLinkTtlMs });
console.log(`Sign in: ${link.url}`);
const child = spawn(
  process.execPath,
  [path.join(root, "node_modules/next/dist/bin/next"), "dev", "-H", config.host, "-p", String(config.port)],
  { cwd: root, env, stdio: "inherit" },
);
child.on("exit", (code) => process.exit(code ?? 0));
