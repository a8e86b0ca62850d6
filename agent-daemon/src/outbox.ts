import Database from "libsql";
import type { AgentEvent, AgentEventPayload } from "./contract.ts";

export interface PendingEvent extends AgentEvent {
  /** The outbox's own row id: acknowledgements name it, and it orders events as they were appended. */
  id: number;
}

interface EventRow {
  id: number;
  session_id: string;
  task_id: string;
  seq: number;
  at: number;
  payload: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    acked_at INTEGER,
    UNIQUE (session_id, seq)
  );
  CREATE INDEX IF NOT EXISTS events_unacked ON events (id) WHERE acked_at IS NULL;
  CREATE INDEX IF NOT EXISTS events_acked ON events (acked_at) WHERE acked_at IS NOT NULL;
  -- The last number given per session, kept apart from the events so pruning old events never
  -- lets a long-lived session's numbering start over.
  CREATE TABLE IF NOT EXISTS session_seqs (
    session_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
  );
`;

/**
 * The node's durable queue of agent events, a SQLite file. Every event gets the next sequence number
 * of its session (1, 2, 3, ... without gaps, across daemon restarts) and is written to the file
 * before `append` returns; it stays until the web app acknowledges it.
 */
export class Outbox {
  private readonly db: Database.Database;
  private readonly listeners = new Set<() => void>();
  private readonly insert: (sessionId: string, taskId: string, at: number, payload: string) => number;

  constructor(file: string) {
    // The timeout lets a second connection to the same file (another Outbox in tests) wait its turn.
    this.db = new Database(file, { timeout: 5_000 });
    this.db.pragma("journal_mode = WAL");
    // NORMAL in WAL mode: a committed event is in the WAL file before `append` returns, so it survives
    // the daemon crashing or being killed; only an OS crash can lose the last few, and a node whose
    // OS crashes is declared lost anyway. FULL would fsync every event and stall the event loop
    // (0.2-1 ms per event on a busy disk, against 0.1 ms).
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(SCHEMA);
    const nextSeq = this.db.prepare<[string]>(
      `INSERT INTO session_seqs (session_id, last_seq) VALUES (?, 1)
       ON CONFLICT (session_id) DO UPDATE SET last_seq = last_seq + 1
       RETURNING last_seq`,
    );
    const insertEvent = this.db.prepare<[string, string, number, number, string]>(
      "INSERT INTO events (session_id, task_id, seq, at, payload) VALUES (?, ?, ?, ?, ?)",
    );
    const append = this.db.transaction((sessionId: string, taskId: string, at: number, payload: string) => {
      const { last_seq } = nextSeq.get(sessionId) as { last_seq: number };
      insertEvent.run(sessionId, taskId, last_seq, at, payload);
      return last_seq;
    });
    // IMMEDIATE takes the write lock before reading the counter, so two connections never read the
    // same last number.
    this.insert = (...args) => append.immediate(...args);
  }

  /** Stores the event with its session's next sequence number and tells the listeners. */
  append(sessionId: string, taskId: string, payload: AgentEventPayload): AgentEvent {
    const at = Date.now();
    const seq = this.insert(sessionId, taskId, at, JSON.stringify(payload));
    for (const listener of this.listeners) listener();
    return { sessionId, taskId, seq, at, event: payload };
  }

  /** Calls `listener` after every append; returns the unsubscribe. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The oldest events the web app has not acknowledged, in the order they were appended: at most
   * `limit` of them and, past the first, no more than about `maxBytes` of payload.
   */
  unacknowledged(limit: number, maxBytes = Number.POSITIVE_INFINITY): PendingEvent[] {
    const rows = this.db
      .prepare<[number]>(
        "SELECT id, session_id, task_id, seq, at, payload FROM events WHERE acked_at IS NULL ORDER BY id LIMIT ?",
      )
      .all(limit) as EventRow[];
    let bytes = 0;
    const taken = rows.filter((row, index) => {
      bytes += row.payload.length;
      return index === 0 || bytes <= maxBytes;
    });
    return taken.map((row) => ({
      id: row.id,
      sessionId: row.session_id,
      taskId: row.task_id,
      seq: row.seq,
      at: row.at,
      event: JSON.parse(row.payload) as AgentEventPayload,
    }));
  }

  acknowledge(ids: readonly number[]): void {
    const ack = this.db.prepare<[number, number]>("UPDATE events SET acked_at = ? WHERE id = ?");
    const now = Date.now();
    this.db.transaction(() => {
      for (const id of ids) ack.run(now, id);
    })();
  }

  pendingCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM events WHERE acked_at IS NULL").get() as { n: number }).n;
  }

  /** Deletes events acknowledged more than `ageMs` ago: the web app has them. */
  prune(ageMs: number): number {
    return this.db.prepare<[number]>("DELETE FROM events WHERE acked_at < ?").run(Date.now() - ageMs).changes;
  }

  close(): void {
    this.listeners.clear();
    this.db.close();
  }
}
