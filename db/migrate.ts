import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/libsql/migrator";
import type { Db } from "./client";

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

/** Applies the committed drizzle-kit migrations; safe to call at every start. */
export async function applyMigrations(db: Db): Promise<void> {
  if (db.$client.protocol === "file") {
    // WAL lets readers proceed while one process writes; it is a property of the file, set once.
    await db.$client.execute("PRAGMA journal_mode = WAL");
  }
  await migrate(db, { migrationsFolder });
}
