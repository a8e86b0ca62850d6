import { createIdea } from "../../ideas/ideas";
import { createIdeaToolSchema } from "../../ideas/rules";
import { callerSession } from "../caller-session";
import { defineTool } from "../tool";
import { ideaJson } from "./idea-json";

export const createIdeaTool = defineTool({
  name: "create_idea",
  description:
    "Capture an idea worth building from this conversation: title (1-200), content (markdown), priority (0 none, 1 low, 2 medium, 3 high), context (why this conversation matters). It lands in the project's draft column, linked to this session.",
  input: createIdeaToolSchema,
  async handler(ctx, { context, ...input }) {
    const session = await callerSession(ctx);
    const idea = await createIdea(ctx.db, ctx.caller.projectId, { kind: "task", taskId: ctx.caller.taskId }, input, {
      sessionId: session.id,
      context,
    });
    return { idea: ideaJson(idea), linkedSessionId: session.id };
  },
});
