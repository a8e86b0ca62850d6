import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { createTaskInActiveProject } from "@/lib/tasks/create-task-in-active-project";

export const dynamic = "force-dynamic";

/** Queues a task: {projectId, prompt, mode?, title?}. The scheduler starts it. */
export async function POST(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const body = await jsonBody(req);
    return Response.json(await createTaskInActiveProject(getDb(), user.id, body), { status: 201 });
  });
}
