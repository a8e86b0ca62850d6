import fs from "node:fs";
import path from "node:path";
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { loadConfig } from "@/lib/config";
import { ensurePrivateFile } from "@/lib/private-files";
import * as schema from "./schema";

export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

export interface DbTarget {
  url: string;
  authToken?: string;
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
  return drizzle(client, { schema }) as Db;
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
