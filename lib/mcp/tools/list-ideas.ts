import { listIdeas } from "../../ideas/ideas";
import { listIdeasSchema } from "../../ideas/rules";
import { defineTool } from "../tool";

export const listIdeasTool = defineTool({
  name: "list_ideas",
  description: "The project's ideas, most recently changed first; filter by status and a text query.",
  input: listIdeasSchema,
  async handler(ctx, args) {
    const ideas = await listIdeas(ctx.db, ctx.caller.projectId, args);
    return { ideas: ideas.map((i) => ({ ...i, updatedAt: i.updatedAt.toISOString() })) };
  },
});
