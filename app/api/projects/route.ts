import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { createProject, listProjects } from "@/lib/projects/projects";

export async function GET(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const includeArchived = new URL(req.url).searchParams.get("archived") === "1";
    return Response.json(await listProjects(getDb(), user.id, { includeArchived }));
  });
}

export async function POST(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const body = await jsonBody(req);
    return Response.json(await createProject(getDb(), user.id, body), { status: 201 });
  });
}
