import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { listModelPrices, replaceModelPrices } from "@/lib/usage/prices";

export const dynamic = "force-dynamic";

/** The price table; any signed-in user may read it, since it explains the costs they are shown. */
export async function GET() {
  return handle(async () => {
    await requireApiUser();
    return Response.json({ prices: await listModelPrices(getDb()) });
  });
}

/** Replaces the price table: `{"prices": [{model, inputPerMillion, outputPerMillion, cachedInputPerMillion?}]}`; admin only. */
export async function PUT(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const prices = await replaceModelPrices(getDb(), { userId: user.id }, await jsonBody(req));
    return Response.json({ prices });
  });
}
