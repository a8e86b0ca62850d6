import path from "node:path";
import { type Db, openDb } from "@/db/client";
import { applyMigrations } from "@/db/migrate";
import { makeTempDir } from "./temp-dir";

/** A migrated libSQL database in a file of its own temp dir. */
export async function makeTestDb(): Promise<{ db: Db; dir: string; cleanup: () => void }> {
  const { dir, cleanup } = makeTempDir("sam-db-");
  const db = openDb({ url: `file:${path.join(dir, "sam.db")}` });
  await applyMigrations(db);
  return {
    db,
    dir,
    cleanup: () => {
      db.$client.close();
      cleanup();
    },
  };
}
