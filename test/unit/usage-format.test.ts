import { describe, expect, it } from "vitest";
import { formatTokens, formatUsage, formatUsd } from "@/lib/usage/format";

describe("usage figures as people read them", () => {
  it("token counts: whole below a thousand, then k and M with at most three significant digits", () => {
    expect([0, 950, 1000, 1500, 12_345, 122_000, 1_250_000, 42_000_000].map(formatTokens)).toEqual([
      "0",
      "950",
      "1k",
      "1.5k",
      "12.3k",
      "122k",
      "1.25M",
      "42M",
    ]);
  });

  it("dollars: cents from a cent up, two significant digits below, and nothing as $0", () => {
    expect([0, 0.0000001, 0.0009, 0.0042, 0.04, 0.345, 12].map(formatUsd)).toEqual([
      "$0",
      "$0.0000001",
      "$0.0009",
      "$0.0042",
      "$0.04",
      "$0.34",
      "$12.00",
    ]);
  });

  it("an unpriced total names the models without a price instead of a cost", () => {
    expect(
      formatUsage({
        inputTokens: 1000,
        outputTokens: 200,
        cachedTokens: 0,
        costUsd: null,
        unpricedModels: ["openai:a", "openai:b"],
      }),
    ).toBe("1.2k tokens · no price for openai:a, openai:b");
  });
});
