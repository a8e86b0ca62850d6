import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getNotificationPrefs, setNotificationPrefs } from "@/lib/notifications/prefs";

export const dynamic = "force-dynamic";

/** The caller's preferences: every kind, and for each of their projects which kinds are on. */
export async function GET() {
  return handle(async () => {
    const user = await requireApiUser();
    return Response.json(await getNotificationPrefs(getDb(), user.id));
  });
}

/**
 * Turns kinds on or off per project: `{"prefs": [{"projectId", "kind", "enabled"}]}`
 * (notificationPrefsChangeSchema); answers with the preferences as they now are.
 */
export async function PUT(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const body = await jsonBody(req);
    return Response.json(await setNotificationPrefs(getDb(), user.id, body));
  });
}
