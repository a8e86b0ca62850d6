import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { sendChatMessage } from "@/lib/chat/send";
import { turnResponse } from "./turn-response";

export const dynamic = "force-dynamic";

/**
 * A message from the project chat ({projectId, sessionId?, mode, text}): stored and handed to the
 * session's daemon (or queued as a new task), answered with the reply as a UI message stream made
 * from the stored events. The stream's first part names the session.
 */
export async function POST(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const db = getDb();
    const sent = await sendChatMessage(db, user.id, await jsonBody(req));
    return turnResponse(db, req, { userId: user.id, ...sent }, [
      { type: "data-session", data: { sessionId: sent.sessionId, taskId: sent.taskId }, transient: true },
    ]);
  });
}
