import path from "node:path";
import { z } from "zod";
import { parseInput } from "./validation";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** Every environment variable SAM reads, validated in one place (the README's table mirrors it). */
const envSchema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SAM_DATA_DIR: z.string().min(1).default("./data"),
  SAM_PUBLIC_URL: optionalString.pipe(
    z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" }).optional(),
  ),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^(file:|libsql:|https?:|wss?:)/, "must start with file:, libsql:, http(s): or ws(s):")
      .optional(),
  ),
  DATABASE_AUTH_TOKEN: optionalString,
  AUTH_SECRET: optionalString,
  SAM_SECRET_KEY: optionalString,
  AUTH_GITHUB_ID: optionalString,
  AUTH_GITHUB_SECRET: optionalString,
  SAM_LOGIN_LINK_TTL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
});

export type SamConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseInput(envSchema, env);
  const dataDir = path.resolve(parsed.SAM_DATA_DIR);
  const hostForUrl = parsed.HOST === "0.0.0.0" || parsed.HOST === "::" ? "127.0.0.1" : parsed.HOST;
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    dataDir,
    publicUrl: (parsed.SAM_PUBLIC_URL ?? `http://${hostForUrl}:${parsed.PORT}`).replace(/\/+$/, ""),
    databaseUrl: parsed.DATABASE_URL ?? `file:${path.join(dataDir, "sam.db")}`,
    databaseAuthToken: parsed.DATABASE_AUTH_TOKEN,
    authSecret: parsed.AUTH_SECRET,
    secretKey: parsed.SAM_SECRET_KEY,
    github:
      parsed.AUTH_GITHUB_ID && parsed.AUTH_GITHUB_SECRET
        ? { clientId: parsed.AUTH_GITHUB_ID, clientSecret: parsed.AUTH_GITHUB_SECRET }
        : undefined,
    loginLinkTtlMs: parsed.SAM_LOGIN_LINK_TTL_MINUTES * 60_000,
  };
}
