import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { removeWebhook } from "@/lib/webhooks/store";
import { assertProjectWebhook } from "./project-webhook";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string; webhookId: string }>;
}

/** Removes a webhook as one of the project's owners; nothing more is sent to it, pending deliveries included. */
export async function DELETE(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const ids = await params;
    const db = getDb();
    await assertProjectWebhook(db, user.id, ids);
    await removeWebhook(db, user.id, ids.webhookId);
    return new Response(null, { status: 204 });
  });
}
