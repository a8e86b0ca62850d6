import { handle } from "@/app/api/handle";
import { sseResponse } from "@/app/api/sse-response";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import type { BoardCard } from "@/lib/ideas/board";
import { watchBoard } from "@/lib/ideas/watch-board";
import { getProjectForUser } from "@/lib/projects/projects";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * A project's idea board as Server-Sent Events: `board` carries every card, first as a snapshot,
 * then again whenever a card changes (an agent creates or links an idea, someone moves one, a task
 * ends). A reconnecting client simply gets the snapshot again.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const project = await getProjectForUser(db, user.id, id);

    return sseResponse(
      req,
      (signal) => watchBoard(db, user.id, project.id, { signal }),
      (cards: BoardCard[]) => `event: board\ndata: ${JSON.stringify(cards)}\n\n`,
      `idea board of project ${project.id}`,
    );
  });
}
