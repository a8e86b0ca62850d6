import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { SamError } from "./errors";
import { ensurePrivateDir } from "./private-files";

/**
 * Reads a secret from the data dir, creating it (mode 0600) on first use. Creation uses an exclusive
 * open so two processes starting at once agree on one value.
 */
function readOrCreate(dataDir: string, fileName: string, make: () => string): string {
  const file = path.join(dataDir, fileName);
  ensurePrivateDir(dataDir);
  try {
    fs.writeFileSync(file, `${make()}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // Made by an older version, or copied in: readable by its owner only.
    fs.chmodSync(file, 0o600);
  }
  const value = fs.readFileSync(file, "utf8").trim();
  if (value === "") throw new SamError("internal", `${file} is empty; delete it to have a new one generated`);
  return value;
}

/** The Auth.js signing secret: AUTH_SECRET, else generated into the data dir. */
export function authSecret(dataDir: string, fromEnv: string | undefined): string {
  return fromEnv ?? readOrCreate(dataDir, "auth-secret", () => randomBytes(32).toString("base64url"));
}

/** The 32-byte key that encrypts stored secrets: SAM_SECRET_KEY, else generated into the data dir. */
export function secretKey(dataDir: string, fromEnv: string | undefined): Buffer {
  const text = fromEnv ?? readOrCreate(dataDir, "secret.key", () => randomBytes(32).toString("base64"));
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== 32) {
    throw new SamError("invalid_input", "SAM_SECRET_KEY must be 32 bytes, given as 64 hex characters or base64");
  }
  return key;
}
