import { z } from "zod";
import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { answerHumanRequest } from "@/lib/tasks/human-input";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

const answerSchema = z
  .object({
    requestId: z.string().min(1, { message: "Name the question answered (requestId)" }).max(200),
    answer: z
      .string()
      .trim()
      .min(1, { message: "The answer is empty" })
      .max(20_000, { message: "The answer is longer than 20,000 characters" }),
  })
  .strict();

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * A member's answer {requestId, answer} to the task's open question: it is recorded once (an answered
 * question or an ended task: 409) and sent to the task's session, which goes on with it.
 */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const body = parseInput(answerSchema, await jsonBody(req));
    return Response.json(await answerHumanRequest(getDb(), user.id, id, body));
  });
}
