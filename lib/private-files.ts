import fs from "node:fs";

/**
 * The data dir holds the database and the keys: it is made (or tightened to) 0700, so no other user
 * of the machine, and no agent running as one, can even list it.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/** Creates `file` empty if missing, and makes it readable by its owner only (0600). */
export function ensurePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, "a", 0o600));
  fs.chmodSync(file, 0o600);
}
