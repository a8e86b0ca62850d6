import { describe, expect, it } from "vitest";
import { markdownToPlainText } from "@/components/ideas/plain-text";

describe("an idea card previews its markdown as plain text", () => {
  it("drops fences, heading and list marks, emphasis and link targets", () => {
    const markdown = [
      "# Sync notes",
      "",
      "Keep **notes** in _sync_ across `devices`, see [the plan](https://example.com/plan).",
      "",
      "- [ ] phones",
      "1. laptops",
      "> quoted ~~idea~~",
      "",
      "```sam-script",
      '[{"say":"hi"}]',
      "```",
      "---",
      "| a | b |",
      "|---|---|",
    ].join("\n");
    expect(markdownToPlainText(markdown)).toBe(
      'Sync notes Keep notes in sync across devices, see the plan. phones laptops quoted idea [{"say":"hi"}] a b',
    );
  });

  it("handles a preview cut inside a fence or an emphasis", () => {
    expect(markdownToPlainText("Intro\n\n```ts\nconst a = 1;")).toBe("Intro const a = 1;");
    expect(markdownToPlainText("Some **bold text that was cu")).toBe("Some bold text that was cu");
  });

  it("keeps underscores and stars inside words and arithmetic", () => {
    expect(markdownToPlainText("snake_case_name and 2 * 3 * 4")).toBe("snake_case_name and 2 * 3 * 4");
  });
});
