import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getSessionForUser } from "@/lib/chat/sessions";
import { loadTranscript } from "@/lib/chat/transcript";

export const dynamic = "force-dynamic";

/** The session's messages as the chat shows them, from the stored events. */
export async function GET(_req: Request, { params }: { params: Promise<{ sessionId: string }> }) {
  return handle(async () => {
    const user = await requireApiUser();
    const db = getDb();
    const { session } = await getSessionForUser(db, user.id, (await params).sessionId);
    return Response.json(await loadTranscript(db, session.id, user.id));
  });
}
