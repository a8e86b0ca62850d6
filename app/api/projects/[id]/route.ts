import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getProjectForUser, updateProjectSettings } from "@/lib/projects/projects";

interface Params {
  params: Promise<{ id: string }>;
}

export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json(await getProjectForUser(getDb(), user.id, id));
  });
}

/** Changes the project's settings (limits, harness, model); the body is validated field by field. */
export async function PATCH(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const body = await jsonBody(req);
    return Response.json(await updateProjectSettings(getDb(), user.id, id, body));
  });
}
