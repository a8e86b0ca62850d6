import type { Db } from "@/db/client";
import type { SamConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";

/** The database location as it may be shown: no credentials, no query string (it can carry a token). */
function shownDatabaseUrl(databaseUrl: string): string {
  if (databaseUrl.startsWith("file:")) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    url.username = "";
    url.password = "";
    url.search = "";
    return url.toString();
  } catch {
    return "the configured DATABASE_URL";
  }
}

/** The innermost cause: drizzle wraps driver errors in "Failed query: ...", fetch in "fetch failed". */
function rootCauseMessage(err: unknown): string {
  let current = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/**
 * Runs a command against the instance's database, the one the server uses (SAM_DATA_DIR,
 * DATABASE_URL): migrated first, closed afterwards so that the process can exit.
 */
export async function withDb<T>(fn: (db: Db, config: SamConfig) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { openDb }, { applyMigrations }] = await Promise.all([
    import("@/lib/config"),
    import("@/db/client"),
    import("@/db/migrate"),
  ]);
  const config = loadConfig();
  let db: Db | undefined;
  try {
    db = openDb({ url: config.databaseUrl, authToken: config.databaseAuthToken });
    await applyMigrations(db);
  } catch (err) {
    db?.$client.close();
    if (SamError.is(err)) throw err;
    const where = shownDatabaseUrl(config.databaseUrl);
    throw new SamError("unavailable", `Cannot use the database at ${where}: ${rootCauseMessage(err)}`);
  }
  try {
    return await fn(db, config);
  } finally {
    db.$client.close();
  }
}
