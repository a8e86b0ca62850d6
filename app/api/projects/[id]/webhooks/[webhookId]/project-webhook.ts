import type { Db } from "@/db/client";
import { SamError } from "@/lib/errors";
import { deliveryWebhookId, webhookProjectId } from "@/lib/webhooks/store";

/** Checks that a webhook (and a delivery of it) belongs to the project the URL names, for its owner. */
export async function assertProjectWebhook(
  db: Db,
  userId: string,
  ids: { id: string; webhookId: string; deliveryId?: string },
): Promise<void> {
  if ((await webhookProjectId(db, userId, ids.webhookId)) !== ids.id) {
    throw new SamError("not_found", "Webhook not found");
  }
  if (ids.deliveryId !== undefined && (await deliveryWebhookId(db, userId, ids.deliveryId)) !== ids.webhookId) {
    throw new SamError("not_found", "Delivery not found");
  }
}
