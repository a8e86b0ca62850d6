import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { clearCloudSettings, getCloudSettings, setCloudSettings } from "@/lib/nodes/cloud/settings";
import { instanceSecretKey } from "@/lib/secrets/instance-key";

export const dynamic = "force-dynamic";

/** The instance's cloud settings (for projects without their own); the token is never shown. */
export async function GET() {
  return handle(async () => {
    const user = await requireApiUser();
    return Response.json({ settings: (await getCloudSettings(getDb(), user.id, "instance")) ?? null });
  });
}

/**
 * Sets them, merged over what is stored (`cloudSettingsSchema`: token, serverType, location, image,
 * labels, capacity, maxVms, warmMinutes, warmPool, enabled); the instance admin only.
 */
export async function PUT(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const settings = await setCloudSettings(getDb(), instanceSecretKey(), user.id, "instance", await jsonBody(req));
    return Response.json({ settings });
  });
}

/** Removes them; refused while VMs made with them exist. */
export async function DELETE() {
  return handle(async () => {
    const user = await requireApiUser();
    await clearCloudSettings(getDb(), user.id, "instance");
    return new Response(null, { status: 204 });
  });
}
