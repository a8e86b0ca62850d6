import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { markNotificationsRead } from "@/lib/notifications/list";

/**
 * Marks the caller's notifications read: `{"ids": [...]}` or `{"all": true}` (markReadInputSchema);
 * answers `{"marked": n}`, how many were unread. Nobody else's are touched.
 */
export async function POST(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const body = await jsonBody(req);
    return Response.json({ marked: await markNotificationsRead(getDb(), user.id, body) });
  });
}
