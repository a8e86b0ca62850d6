import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { SamError } from "../errors";
import type { PullRequestRow } from "./figures";

// Long enough for a push to a slow remote; a crashed holder's lock lapses after it.
const LOCK_MS = 10 * 60_000;
const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;

/**
 * Runs `work` holding the pull request: one merge or close at a time, and none once it is no longer
 * open. Refuses with a clear `conflict` when another holds it or it is merged or closed.
 */
export async function withPullRequestLock<T>(
  db: Db,
  pr: PullRequestRow,
  action: string,
  work: (lockToken: string) => Promise<T>,
): Promise<T> {
  const token = randomBytes(12).toString("hex");
  // Invariant: one merge or close of a pull request at a time, and none after it was merged or closed.
  const taken = await db.run(sql`
    UPDATE pull_requests SET lock_token = ${token}, locked_until = ${NOW} + ${LOCK_MS}
    WHERE id = ${pr.id} AND state = 'open' AND (locked_until IS NULL OR locked_until < ${NOW})`);
  if (taken.rowsAffected !== 1) {
    const now = await db.query.pullRequests.findFirst({ where: (p, { eq }) => eq(p.id, pr.id) });
    if (now && now.state !== "open") {
      throw new SamError("conflict", `Pull request #${pr.number} is already ${now.state}; it cannot be ${action}`);
    }
    throw new SamError("conflict", `Pull request #${pr.number} is being merged or closed right now; try again shortly`);
  }
  try {
    return await work(token);
  } finally {
    await db.run(sql`UPDATE pull_requests SET lock_token = NULL, locked_until = NULL
      WHERE id = ${pr.id} AND lock_token = ${token}`);
  }
}
