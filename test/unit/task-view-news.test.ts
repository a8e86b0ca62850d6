import { describe, expect, it } from "vitest";
import { viewHasNews } from "@/lib/tasks/statuses";

describe("when a task's view has no more news (its feed and the page's stream end)", () => {
  const ended = { status: "completed" as const, childrenActive: false, retried: false, parentStatus: null };

  it("a task that has not ended, or whose subtasks run, still has news", () => {
    expect(viewHasNews({ ...ended, status: "running" })).toBe(true);
    expect(viewHasNews({ ...ended, childrenActive: true })).toBe(true);
    expect(viewHasNews(ended)).toBe(false);
  });

  it("a failed subtask not yet retried has news while its parent lives: Retry depends on that parent", () => {
    expect(viewHasNews({ ...ended, status: "failed", parentStatus: "awaiting_subtasks" })).toBe(true);
    expect(viewHasNews({ ...ended, status: "failed", parentStatus: "failed" })).toBe(false);
    expect(viewHasNews({ ...ended, status: "failed", parentStatus: "running", retried: true })).toBe(false);
    expect(viewHasNews({ ...ended, status: "cancelled", parentStatus: "running" })).toBe(false);
    expect(viewHasNews({ ...ended, status: "failed" })).toBe(false);
  });
});
