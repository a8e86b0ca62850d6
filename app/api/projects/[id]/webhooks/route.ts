import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { addWebhook, listWebhooks } from "@/lib/webhooks/store";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** The project's webhooks (owners only): hints of where they post, never their URLs or secrets. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json(await listWebhooks(getDb(), user.id, id));
  });
}

/**
 * Adds a webhook as one of the project's owners: {url, format?: slack|discord|json, secret?, kinds?},
 * validated by `addWebhookSchema`. The URL and secret are never shown again.
 */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const webhook = await addWebhook(getDb(), instanceSecretKey(), user.id, id, await jsonBody(req));
    return Response.json(webhook, { status: 201 });
  });
}
