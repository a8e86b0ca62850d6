import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { clearCloudSettings, getCloudSettings, setCloudSettings } from "@/lib/nodes/cloud/settings";
import { instanceSecretKey } from "@/lib/secrets/instance-key";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** The project's own cloud settings (members may read them); the token secret's name, never its value. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json({ settings: (await getCloudSettings(getDb(), user.id, { projectId: id })) ?? null });
  });
}

/**
 * Sets them as an owner, merged over what is stored (`cloudSettingsSchema`: tokenSecret, the name of
 * a project secret holding the Hetzner API token, default HCLOUD_TOKEN; serverType, location, image,
 * labels, capacity, maxVms, warmMinutes, warmPool, enabled).
 */
export async function PUT(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const settings = await setCloudSettings(
      getDb(),
      instanceSecretKey(),
      user.id,
      { projectId: id },
      await jsonBody(req),
    );
    return Response.json({ settings });
  });
}

/** Removes them as an owner; refused while VMs made with them exist. */
export async function DELETE(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    await clearCloudSettings(getDb(), user.id, { projectId: id });
    return new Response(null, { status: 204 });
  });
}
