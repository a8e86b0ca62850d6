import Database from "libsql";
import type { CommandResult } from "./contract.ts";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS command_results (
    id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    status INTEGER,
    body TEXT,
    done_at INTEGER
  );
`;

interface Row {
  status: number | null;
  body: string | null;
}

/**
 * The commands this node ran for its web app, by id, with their results: a command the web app
 * sends again (its connection dropped before the answer arrived) is answered from here, never run
 * twice — not even across a restart of the daemon. A SQLite file in the node's data dir.
 */
export class CommandLog {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { timeout: 5_000 });
    this.db.pragma("journal_mode = WAL");
    // As the outbox: a committed row survives the daemon being killed; only an OS crash can lose the
    // last few, and a node whose OS crashes is declared lost anyway. No fsync on a command's path.
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(SCHEMA);
  }

  /** Records that the command starts; false when it started before (it never runs twice). */
  begin(id: string): boolean {
    const info = this.db
      .prepare("INSERT INTO command_results (id, started_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
      .run(id, Date.now());
    return info.changes === 1;
  }

  /** `undefined`: never seen; `started`: begun and not finished (by this run or one that died). */
  get(id: string): CommandResult | "started" | undefined {
    const row = this.db.prepare("SELECT status, body FROM command_results WHERE id = ?").get(id) as Row | undefined;
    if (!row) return undefined;
    if (row.status === null) return "started";
    return { status: row.status, ...(row.body === null ? {} : { body: JSON.parse(row.body) as unknown }) };
  }

  finish(id: string, result: CommandResult): void {
    this.db
      .prepare("UPDATE command_results SET status = ?, body = ?, done_at = ? WHERE id = ?")
      .run(result.status, result.body === undefined ? null : JSON.stringify(result.body), Date.now(), id);
  }

  /** Forgets commands older than `ageMs`: the web app gives up on a command long before. */
  prune(ageMs: number): void {
    this.db.prepare("DELETE FROM command_results WHERE started_at < ?").run(Date.now() - ageMs);
  }

  close(): void {
    this.db.close();
  }
}
