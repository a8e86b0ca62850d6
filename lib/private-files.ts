import fs from "node:fs";

/**
 * The data dir holds the database and the keys: it is made (or tightened to) 0700, so no other user
 * of the machine, and no agent running as one, can even list it.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/**
 * Makes `file` readable by its owner only (0600), creating it empty if missing. An existing file is
 * never opened here: closing any descriptor of a file drops every POSIX lock this process holds on
 * it, and SQLite's locks on an open database are such locks.
 */
export function ensurePrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, "wx", 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    fs.chmodSync(file, 0o600);
  }
}
