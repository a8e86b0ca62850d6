import { z } from "zod";
import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { createProject, listAllProjects, listProjects } from "@/lib/projects/projects";
import { parseInput } from "@/lib/validation";

const flag = z.enum(["0", "1"], { message: "must be 0 or 1" }).optional();
const listQuerySchema = z.object({
  archived: flag,
  // Every project of the instance: the admin's view, like `sam project list --all`.
  all: flag,
});

export async function GET(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const query = parseInput(listQuerySchema, Object.fromEntries(new URL(req.url).searchParams));
    const includeArchived = query.archived === "1";
    const db = getDb();
    if (query.all === "1") return Response.json(await listAllProjects(db, { userId: user.id }, { includeArchived }));
    return Response.json(await listProjects(db, user.id, { includeArchived }));
  });
}

export async function POST(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const body = await jsonBody(req);
    return Response.json(await createProject(getDb(), user.id, body), { status: 201 });
  });
}
