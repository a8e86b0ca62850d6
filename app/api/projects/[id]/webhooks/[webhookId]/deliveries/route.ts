import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { listDeliveries } from "@/lib/webhooks/store";
import { assertProjectWebhook } from "../project-webhook";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string; webhookId: string }>;
}

/** A webhook's delivery log, newest first: status, attempts (each with status code, error, duration), times. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const ids = await params;
    const db = getDb();
    await assertProjectWebhook(db, user.id, ids);
    return Response.json(await listDeliveries(db, user.id, ids.webhookId));
  });
}
