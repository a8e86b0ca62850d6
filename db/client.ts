import fs from "node:fs";
import path from "node:path";
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { loadConfig } from "@/lib/config";
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
    const file = target.url.slice("file:".length);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
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
