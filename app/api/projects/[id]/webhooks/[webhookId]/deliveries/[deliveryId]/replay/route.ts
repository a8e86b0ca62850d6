import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { kickWebhooks } from "@/lib/webhooks/boot";
import { replayDelivery } from "@/lib/webhooks/store";
import { assertProjectWebhook } from "../../../project-webhook";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string; webhookId: string; deliveryId: string }>;
}

/** Sends a delivery's event again, as a new delivery (replayOfId set) sent at once. Owners only. */
export async function POST(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const ids = await params;
    const db = getDb();
    await assertProjectWebhook(db, user.id, ids);
    const replay = await replayDelivery(db, user.id, ids.deliveryId);
    kickWebhooks();
    return Response.json(replay, { status: 201 });
  });
}
