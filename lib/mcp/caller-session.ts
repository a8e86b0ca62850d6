import { eq } from "drizzle-orm";
import { chatSessions } from "@/db/schema";
import { SamError } from "../errors";
import type { ToolContext } from "./tool";

/** The chat session of the caller's task (every task has exactly one). */
export async function callerSession(ctx: ToolContext) {
  const session = await ctx.db.query.chatSessions.findFirst({
    where: eq(chatSessions.taskId, ctx.caller.taskId),
    columns: { id: true, title: true },
  });
  if (!session) throw new SamError("not_found", "The task of this token has no chat session");
  return session;
}
