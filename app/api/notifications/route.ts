import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { listNotifications } from "@/lib/notifications/list";

export const dynamic = "force-dynamic";

/**
 * The caller's notifications, most recently changed first: `?unread=1` only the unread ones,
 * `?limit=` (1-200, default 50), `?before=<id>` the page after that notification. The query is
 * validated by listNotificationsInputSchema, which names a bad parameter.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const query = Object.fromEntries(new URL(req.url).searchParams);
    return Response.json(await listNotifications(getDb(), user.id, query));
  });
}
