import type { Idea } from "../../ideas/ideas";

/** An idea as the MCP tools return it (and the chat parses it): `idea: {id, title, status, …}`. */
export function ideaJson(idea: Idea) {
  return {
    id: idea.id,
    title: idea.title,
    status: idea.status,
    priority: idea.priority,
    content: idea.content,
    createdAt: idea.createdAt.toISOString(),
    updatedAt: idea.updatedAt.toISOString(),
  };
}
