import { desc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ideaSessionLinks, ideas } from "@/db/schema";

export interface SessionIdea {
  id: string;
  title: string;
  status: (typeof ideas.$inferSelect)["status"];
  priority: number;
  /** The link's note: why this conversation matters to the idea. */
  context: string | null;
  linkedAt: Date;
}

/** The ideas linked to one chat session (created in it or linked to it), latest link first. */
export async function listSessionIdeas(db: Db, sessionId: string): Promise<SessionIdea[]> {
  return db
    .select({
      id: ideas.id,
      title: ideas.title,
      status: ideas.status,
      priority: ideas.priority,
      context: ideaSessionLinks.context,
      linkedAt: ideaSessionLinks.createdAt,
    })
    .from(ideaSessionLinks)
    .innerJoin(ideas, eq(ideas.id, ideaSessionLinks.ideaId))
    .where(eq(ideaSessionLinks.sessionId, sessionId))
    .orderBy(desc(ideaSessionLinks.createdAt), desc(ideas.createdAt));
}
