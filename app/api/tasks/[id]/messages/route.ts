import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { sendUserMessage } from "@/lib/orchestrator/send-message";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** A message {text} to a task's session, through its inbox; it shows up in the task's event stream. */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const body = await jsonBody(req);
    return Response.json(await sendUserMessage(getDb(), user.id, id, body));
  });
}
