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
