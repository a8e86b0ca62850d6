import { updateIdea } from "../../ideas/ideas";
import { updateIdeaToolSchema } from "../../ideas/rules";
import { defineTool } from "../tool";
import { ideaJson } from "./idea-json";

export const updateIdeaTool = defineTool({
  name: "update_idea",
  description:
    "Refine an idea of this project: title, content (replace) or append (add a paragraph), priority (0-3), status (draft, exploring, ready, parked).",
  input: updateIdeaToolSchema,
  async handler(ctx, { ideaId, ...changes }) {
    const idea = await updateIdea(ctx.db, ctx.caller.projectId, ideaId, changes);
    return { idea: ideaJson(idea) };
  },
});
