import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getSessionForUser, latestTurn } from "@/lib/chat/sessions";
import { SamError } from "@/lib/errors";
import { turnResponse } from "../../turn-response";

export const dynamic = "force-dynamic";

/**
 * Resumes the session's latest turn for a browser that has events up to `?after=<seq>`: the whole
 * turn again (the browser replaces its copy of the reply), then live until the turn ends. 204 when
 * the browser already has everything and no turn is under way, and when it lacks the message that
 * opened the latest turn (another tab sent it): a reply streamed without it would show the answer and
 * never the message, so the browser loads the transcript first and resumes from there.
 */
export async function GET(req: Request, { params }: { params: Promise<{ sessionId: string }> }) {
  return handle(async () => {
    const user = await requireApiUser();
    const db = getDb();
    const { session, task } = await getSessionForUser(db, user.id, (await params).sessionId);
    const after = afterOf(req);
    const turn = await latestTurn(db, session);
    if (!turn || after < turn.startSeq || (turn.ended && after >= turn.lastSeq)) {
      return new Response(null, { status: 204 });
    }
    return turnResponse(db, req, {
      userId: user.id,
      sessionId: session.id,
      taskId: task.id,
      mode: task.mode,
      afterSeq: after,
      target: { kind: "turn", startSeq: turn.startSeq },
    });
  });
}

function afterOf(req: Request): number {
  const value = new URL(req.url).searchParams.get("after") ?? "0";
  if (!/^\d{1,15}$/.test(value)) {
    throw new SamError("invalid_input", "after must be a sequence number", {
      fields: [{ field: "after", message: "must be a whole number of 0 or more" }],
    });
  }
  return Number(value);
}
