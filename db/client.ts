import fs from "node:fs";
import path from "node:path";
import { type Client, createClient, type InStatement, type TransactionMode } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { loadConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";
import { ensurePrivateFile } from "@/lib/private-files";
import * as schema from "./schema";

export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

export interface DbTarget {
  url: string;
  authToken?: string;
}

/** How long a statement refused as busy is tried again before the caller is told the database is unavailable. */
const BUSY_RETRY_MS = 15_000;
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 250;

/** Whether an error (or one of its causes) is SQLite's "database is locked": another writer holds the lock. */
function isBusy(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === "SQLITE_BUSY" || /database is locked|SQLITE_BUSY/.test(e.message)) return true;
  }
  return false;
}

/**
 * Why the database server could not be reached at all (refused, DNS), if that is the failure:
 * nothing was done.
 */
function unreachableCode(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN") return code;
  }
  return undefined;
}

/**
 * Runs one statement or one batch, trying again while the database answers busy: a statement or a
 * batch that was refused as busy changed nothing (a batch is one transaction), so it is safe to
 * repeat. The waits grow exponentially with full jitter, so writers that collided spread out.
 * What still fails becomes `unavailable`, never an internal error with SQLite's text.
 */
async function retryingBusy<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const unreachable = unreachableCode(err);
      if (unreachable) {
        throw new SamError("unavailable", `The database cannot be reached (${unreachable}); try again shortly`);
      }
      if (!isBusy(err)) throw err;
      if (Date.now() >= deadline) {
        throw new SamError("unavailable", "The database is too busy to take this change; try again shortly");
      }
      const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * backoff));
    }
  }
}

/**
 * Whether a statement only reads. What cannot be told to be a read (a WITH that writes, PRAGMA,
 * DDL) counts as a write.
 */
function isRead(stmt: InStatement | string): boolean {
  const text = (typeof stmt === "string" ? stmt : Array.isArray(stmt) ? stmt[0] : stmt.sql).trimStart();
  if (/^select\b/i.test(text)) return true;
  return /^with\b/i.test(text) && !/\b(insert|update|delete|replace)\b/i.test(text);
}

/**
 * One write at a time per process to a libSQL server. With many write transactions waiting for
 * its lock at once, sqld was seen to stop granting it for good (a fresh client's write then hangs
 * while reads go on): a transaction that began as a reader and upgraded to a writer is refused as
 * busy, and under a dozen such waiters at once the lock's hand-over wedges. Queuing this process's
 * writes here keeps the server's waiters down to one per instance; reads are not queued.
 */
function writeQueue(): <T>(run: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(run: () => Promise<T>) => {
    const result = tail.then(run, run);
    tail = result.catch(() => undefined);
    return result;
  };
}

const globalForWrites = globalThis as unknown as { __samDbWrites?: ReturnType<typeof writeQueue> };

/**
 * A libSQL client whose statements and batches survive write contention: refused as busy, they are
 * tried again (outside the write queue, so others go on meanwhile); against a server, writes queue
 * in this process (see writeQueue).
 */
function contentionSafe(client: Client, remote: boolean): Client {
  const execute = client.execute.bind(client) as (stmt: InStatement) => ReturnType<Client["execute"]>;
  const batch = client.batch.bind(client);
  globalForWrites.__samDbWrites ??= writeQueue();
  const queued = globalForWrites.__samDbWrites;
  const inQueue = <T>(write: boolean, run: () => Promise<T>) => (remote && write ? queued(run) : run());
  Object.assign(client, {
    execute: (stmtOrSql: InStatement | string, args?: unknown) => {
      const stmt = typeof stmtOrSql === "string" ? { sql: stmtOrSql, args: (args ?? []) as [] } : stmtOrSql;
      return retryingBusy(() => inQueue(!isRead(stmt), () => execute(stmt)));
    },
    batch: (stmts: InStatement[], mode?: TransactionMode) =>
      retryingBusy(() => inQueue(mode !== "read", () => batch(stmts, mode))),
  });
  return client;
}

/** Opens a database: a libSQL file (WAL, busy timeout) or a libSQL server over HTTP/WebSocket. */
export function openDb(target: DbTarget): Db {
  const isFile = target.url.startsWith("file:");
  if (isFile) {
    const file = path.resolve(target.url.slice("file:".length).split("?")[0] ?? "");
    // A folder made here is private; one that exists is the operator's to set.
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // SQLite gives its -wal and -shm files the database file's mode.
    ensurePrivateFile(file);
  }
  // The busy timeout lets concurrent writers from several processes wait instead of failing.
  const client = createClient({ url: target.url, authToken: target.authToken, timeout: 10_000 });
  return drizzle(contentionSafe(client, !isFile), { schema }) as Db;
}

const globalForDb = globalThis as unknown as { __samDb?: Db };

/** The process-wide database of the configured instance. */
export function getDb(): Db {
  if (!globalForDb.__samDb) {
    const config = loadConfig();
    globalForDb.__samDb = openDb({ url: config.databaseUrl, authToken: config.databaseAuthToken });
  }
  return globalForDb.__samDb;
}
