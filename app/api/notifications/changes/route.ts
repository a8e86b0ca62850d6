import { z } from "zod";
import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { notificationChangesSince } from "@/lib/notifications/watch-notifications";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

const changesQuerySchema = z
  .object({
    after: z
      .string()
      .trim()
      .regex(/^\d{1,15}$/, { message: "must be a change cursor (a whole number of 0 or more)" })
      .transform(Number)
      .optional(),
  })
  .strict();

/**
 * The bell's poll: `{cursor, unread, notifications}`, the notifications changed since `?after=` (a
 * cursor an earlier answer gave; none: the count only). A poll holds no connection open, so the
 * bell costs none of the six a browser keeps per server over HTTP/1.1.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const { after } = parseInput(changesQuerySchema, Object.fromEntries(new URL(req.url).searchParams));
    return Response.json(await notificationChangesSince(getDb(), user.id, after));
  });
}
