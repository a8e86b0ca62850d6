import { z } from "zod";
import { handle } from "@/app/api/handle";
import { sseResponse } from "@/app/api/sse-response";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { type NotificationChanges, watchNotifications } from "@/lib/notifications/watch-notifications";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

const cursor = z
  .string()
  .trim()
  .regex(/^\d{1,15}$/, { message: "must be a change cursor (a whole number of 0 or more)" });

/** Where a reconnecting EventSource was up to (`Last-Event-ID`); none: from now on. */
const resumeSchema = z.object({ "Last-Event-ID": cursor.optional() }).strict();

/**
 * The caller's notifications as Server-Sent Events: each `notifications` event holds the unread
 * count and the notifications new or changed since the last one (the first holds the count); its id
 * is the change cursor, so a reconnecting EventSource resumes without losing a change.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const header = req.headers.get("last-event-id");
    const given = parseInput(resumeSchema, header === null || header.trim() === "" ? {} : { "Last-Event-ID": header });
    const after = given["Last-Event-ID"] === undefined ? undefined : Number(given["Last-Event-ID"]);
    const db = getDb();
    return sseResponse(
      req,
      (signal) => watchNotifications(db, user.id, { after, signal }),
      frame,
      `notifications of user ${user.id}`,
    );
  });
}

function frame(changes: NotificationChanges): string {
  return `id: ${changes.cursor}\nevent: notifications\ndata: ${JSON.stringify(changes)}\n\n`;
}
