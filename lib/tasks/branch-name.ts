/** `sam/<slug>-<short id>`: readable in a branch list, unique by the task id. */
export function branchNameFor(taskId: string, title: string): string {
  const slug =
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/, "") || "task";
  return `sam/${slug}-${taskId.replace(/-/g, "").slice(0, 8)}`;
}

/** A title from the first line of a prompt, when none is given. */
export function titleFromPrompt(prompt: string): string {
  const firstLine =
    prompt
      .split("\n")
      .map((l) => l.replace(/^[#>*\s-]+/, "").trim())
      .find((l) => l.length > 0 && !l.startsWith("```")) ?? "Task";
  return firstLine.length > 80 ? `${firstLine.slice(0, 77)}…` : firstLine;
}
