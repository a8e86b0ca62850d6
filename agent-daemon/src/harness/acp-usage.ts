/**
 * Token usage and cost as ACP agents report them, turned into SAM's `usage` events: one delta
 * per report, never counting a token twice.
 *
 * SAM's figures: `inputTokens` are all the input tokens, `cachedTokens` the part of them read
 * from the provider's cache, `outputTokens` include reasoning.
 *
 * - The prompt response's `usage` (unstable ACP): the turn's tokens, in disjoint buckets
 *   (`totalTokens` is their sum), so cache reads and writes are added to the input.
 * - Qwen Code reports each model call in an empty `agent_message_chunk`'s `_meta.usage`, with
 *   Gemini's convention (the prompt count includes the cached part).
 * - `usage_update.cost`: the session's cumulative cost; SAM records the increase.
 */
import { z } from "zod";
import type { HarnessEvent } from "./types.ts";

type UsageEvent = Extract<HarnessEvent, { type: "usage" }>;
type Tokens = Pick<UsageEvent, "inputTokens" | "outputTokens" | "cachedTokens">;

const count = z.number().int().min(0).nullish();

/** ACP's `Usage` (the prompt response's, unstable). */
const acpUsageSchema = z.object({
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  thoughtTokens: count,
  cachedReadTokens: count,
  cachedWriteTokens: count,
});

/** Qwen Code's per-call report in `_meta.usage`. */
const callUsageSchema = z.object({
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  thoughtTokens: count,
  cachedReadTokens: count,
});

const costSchema = z.object({ amount: z.number().min(0), currency: z.string() });

const NONE: Tokens = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };

function minus(a: Tokens, b: Tokens): Tokens {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    cachedTokens: Math.max(0, a.cachedTokens - b.cachedTokens),
  };
}

function plus(a: Tokens, b: Tokens): Tokens {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
  };
}

/** Follows one session's usage reports; `turnStarted` and `turnEnded` bracket each prompt. */
export class UsageMeter {
  /** The session's cumulative cost (USD) as last reported. */
  private sessionCost = 0;
  private turnCost = 0;
  /** Tokens already reported during this turn, which the turn's total must not count again. */
  private turnTokens: Tokens = NONE;

  turnStarted(): void {
    this.turnCost = 0;
    this.turnTokens = NONE;
  }

  /** A `usage_update`: only its cost counts (the rest is the context window's fill). */
  costUpdate(cost: unknown): void {
    const parsed = costSchema.safeParse(cost);
    if (!parsed.success || parsed.data.currency !== "USD") return;
    const { amount } = parsed.data;
    // A total below the last one means the agent started counting anew.
    this.turnCost += amount >= this.sessionCost ? amount - this.sessionCost : amount;
    this.sessionCost = amount;
  }

  /** An agent message chunk's `_meta`: a per-call usage report, if it holds one. */
  callReport(meta: Record<string, unknown> | null | undefined): UsageEvent | undefined {
    const parsed = callUsageSchema.safeParse(meta?.usage);
    if (!parsed.success) return undefined;
    const { inputTokens, outputTokens, thoughtTokens, cachedReadTokens } = parsed.data;
    const tokens = {
      inputTokens,
      outputTokens: outputTokens + (thoughtTokens ?? 0),
      cachedTokens: Math.min(cachedReadTokens ?? 0, inputTokens),
    };
    this.turnTokens = plus(this.turnTokens, tokens);
    return { type: "usage", ...tokens };
  }

  /** The turn's end, with the prompt response's `usage` if it had one: what is left to record. */
  turnEnded(usage: unknown): UsageEvent | undefined {
    const parsed = acpUsageSchema.safeParse(usage);
    let tokens = NONE;
    if (parsed.success) {
      const { inputTokens, outputTokens, thoughtTokens, cachedReadTokens, cachedWriteTokens } = parsed.data;
      const total = {
        inputTokens: inputTokens + (cachedReadTokens ?? 0) + (cachedWriteTokens ?? 0),
        outputTokens: outputTokens + (thoughtTokens ?? 0),
        cachedTokens: cachedReadTokens ?? 0,
      };
      tokens = minus(total, this.turnTokens);
    }
    // Differences of decimal amounts carry float noise (0.35 - 0.1); a billionth of a dollar is plenty.
    const costUsd = Math.round(this.turnCost * 1e9) / 1e9;
    this.turnStarted();
    if (tokens.inputTokens + tokens.outputTokens + tokens.cachedTokens === 0 && costUsd === 0) return undefined;
    return { type: "usage", ...tokens, ...(costUsd > 0 ? { costUsd } : {}) };
  }
}
