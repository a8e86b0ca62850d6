import { z } from "zod";
import { ideaDetails } from "../../ideas/ideas";
import { ideaIdSchema } from "../../ideas/rules";
import { defineTool } from "../tool";
import { ideaJson } from "./idea-json";

export const getIdeaTool = defineTool({
  name: "get_idea",
  description: "One idea of this project with the conversations it is linked to and the tasks run from it.",
  input: z.object({ ideaId: ideaIdSchema }).strict(),
  async handler(ctx, { ideaId }) {
    const { linkedSessions, tasks, ...idea } = await ideaDetails(ctx.db, ctx.caller.projectId, ideaId);
    return {
      idea: ideaJson(idea),
      linkedSessions: linkedSessions.map((s) => ({
        sessionId: s.sessionId,
        title: s.title,
        mode: s.mode,
        context: s.context,
        linkedAt: s.linkedAt.toISOString(),
      })),
      tasks: tasks.map((t) => ({
        id: t.id,
        title: t.title,
        status: t.status,
        branch: t.branch,
        prUrl: t.prUrl,
        failureReason: t.failureReason,
      })),
    };
  },
});
