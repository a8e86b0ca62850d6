import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ideas } from "@/db/schema";

/**
 * Everything a board card shows about one idea. It is also what the live stream compares: a board
 * is sent again whenever any card's fields change.
 */
export async function boardCards(db: Db, projectId: string) {
  return db
    .select({
      id: ideas.id,
      title: ideas.title,
      status: ideas.status,
      priority: ideas.priority,
      position: ideas.position,
      // Search on the board covers the content too; a short excerpt is enough to match and preview.
      // (Subqueries name `ideas.id` literally: drizzle leaves the column unqualified in a one-table select.)
      excerpt: sql<string>`substr(${ideas.content}, 1, 280)`,
      linkedSessions: sql<number>`(SELECT count(*) FROM idea_session_links l WHERE l.idea_id = ideas.id)`,
      lastTaskStatus: sql<
        string | null
      >`(SELECT t.status FROM tasks t WHERE t.source_idea_id = ideas.id ORDER BY t.created_at DESC LIMIT 1)`,
      lastTaskFailure: sql<
        string | null
      >`(SELECT t.failure_reason FROM tasks t WHERE t.source_idea_id = ideas.id ORDER BY t.created_at DESC LIMIT 1)`,
      updatedAt: sql<number>`${ideas.updatedAt}`,
    })
    .from(ideas)
    .where(eq(ideas.projectId, projectId))
    .orderBy(asc(ideas.status), asc(ideas.position), asc(ideas.createdAt));
}
export type BoardCard = Awaited<ReturnType<typeof boardCards>>[number];
