import { z } from "zod";
import { linkIdea } from "../../ideas/ideas";
import { ideaIdSchema } from "../../ideas/rules";
import { callerSession } from "../caller-session";
import { defineTool } from "../tool";
import { ideaJson } from "./idea-json";

export const linkIdeaTool = defineTool({
  name: "link_idea",
  description:
    "Link an existing idea of this project to this conversation, with a short note on why. Linking again changes nothing.",
  input: z.object({ ideaId: ideaIdSchema, context: z.string().max(2000).optional() }).strict(),
  async handler(ctx, { ideaId, context }) {
    const session = await callerSession(ctx);
    const { idea, linked } = await linkIdea(ctx.db, ctx.caller.projectId, ideaId, session.id, context);
    return { idea: ideaJson(idea), linked, alreadyLinked: !linked, sessionId: session.id };
  },
});
