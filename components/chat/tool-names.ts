import type { DynamicToolUIPart } from "ai";
import { IDEA_STATUSES, type IdeaStatus } from "@/db/schema";

/** A tool's name without the prefix a harness may give MCP tools (`mcp__sam__dispatch_task`). */
export function baseToolName(name: string): string {
  return name.replace(/^mcp__[^_]+__/, "").replace(/^sam[_.]/, "");
}

/** What an MCP tool answered, as the JSON its first text block holds (undefined when it is not JSON). */
export function mcpJson(output: unknown): Record<string, unknown> | undefined {
  const content = (output as { content?: { type?: string; text?: string }[] } | null)?.content;
  const text = Array.isArray(content) ? content.find((c) => c?.type === "text")?.text : undefined;
  if (typeof text !== "string") return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function stringField(value: unknown, key: string): string | undefined {
  const field = (value as Record<string, unknown> | null | undefined)?.[key];
  return typeof field === "string" ? field : undefined;
}

/** The tools whose result is an idea the conversation captured or linked. */
const IDEA_TOOLS = new Set(["create_idea", "link_idea"]);

/** The idea a finished create_idea / link_idea call returned ({idea: {id, title, status}}). */
export function ideaOfToolPart(part: DynamicToolUIPart): { id: string; title: string; status: IdeaStatus } | undefined {
  if (part.state !== "output-available" || !IDEA_TOOLS.has(baseToolName(part.toolName))) return undefined;
  const idea = mcpJson(part.output)?.idea;
  const id = stringField(idea, "id");
  const title = stringField(idea, "title");
  const status = stringField(idea, "status");
  if (!id || !title || !status || !(IDEA_STATUSES as readonly string[]).includes(status)) return undefined;
  return { id, title, status: status as IdeaStatus };
}
