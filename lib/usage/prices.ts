import { asc } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { modelPrices } from "@/db/schema";
import { type Requester, requireAdmin } from "../users";
import { parseInput } from "../validation";

/** One model's price: US dollars per million tokens. */
export interface ModelPrice {
  model: string;
  inputPerMillion: number;
  outputPerMillion: number;
  /** Cached input tokens; without it they cost the input price. */
  cachedInputPerMillion: number | null;
}

const perMillion = z
  .number({ message: "must be a number (US dollars per million tokens)" })
  .min(0, { message: "must not be negative" })
  .max(100_000, { message: "must be at most 100000 dollars per million tokens" });

/** The whole price table, as an admin saves it (PUT /api/model-prices). */
export const modelPricesInputSchema = z
  .object({
    prices: z
      .array(
        z
          .object({
            model: z
              .string({ message: "must be a model name such as openai:gpt-4o" })
              .trim()
              .min(1, { message: "must not be empty" })
              .max(250, { message: "must be at most 250 characters" })
              .regex(/^\S+$/, { message: "must not contain spaces (a model is written provider:model)" }),
            inputPerMillion: perMillion,
            outputPerMillion: perMillion,
            cachedInputPerMillion: perMillion.nullable().default(null),
          })
          .strict(),
      )
      .max(1000, { message: "must hold at most 1000 models" })
      .superRefine((prices, ctx) => {
        const seen = new Set<string>();
        prices.forEach((price, i) => {
          if (seen.has(price.model))
            ctx.addIssue({ code: "custom", path: [i, "model"], message: `${price.model} is listed twice` });
          seen.add(price.model);
        });
      }),
  })
  .strict();

export async function listModelPrices(db: Db): Promise<ModelPrice[]> {
  return db
    .select({
      model: modelPrices.model,
      inputPerMillion: modelPrices.inputPerMillion,
      outputPerMillion: modelPrices.outputPerMillion,
      cachedInputPerMillion: modelPrices.cachedInputPerMillion,
    })
    .from(modelPrices)
    .orderBy(asc(modelPrices.model));
}

/**
 * Replaces the price table (the admin's edit of the whole table). Costs are derived when they are
 * shown, so a new price reprices all usage, past turns included.
 */
export async function replaceModelPrices(db: Db, requester: Requester, input: unknown): Promise<ModelPrice[]> {
  await requireAdmin(db, requester, "change model prices");
  const { prices } = parseInput(modelPricesInputSchema, input);
  // One batch (one transaction sent whole), not an interactive transaction: against a libSQL server
  // an interactive one holds the write lock across round trips, and one left open holds it longer.
  if (prices.length > 0) await db.batch([db.delete(modelPrices), db.insert(modelPrices).values(prices)]);
  else await db.delete(modelPrices);
  return listModelPrices(db);
}

/** The offline `scripted` model runs no provider: its usage costs nothing. */
export const FREE_MODELS: ReadonlySet<string> = new Set(["scripted"]);

/** Tokens of one model that its table price (not an agent's own figure) decides the cost of. */
interface TokensToPrice {
  inputTokens: number;
  outputTokens: number;
  /** The part of `inputTokens` read from a cache. */
  cachedTokens: number;
}

/** What the tokens cost at this price, in US dollars. */
export function costOf(tokens: TokensToPrice, price: Omit<ModelPrice, "model">): number {
  const cached = Math.min(tokens.cachedTokens, tokens.inputTokens);
  return (
    ((tokens.inputTokens - cached) * price.inputPerMillion +
      cached * (price.cachedInputPerMillion ?? price.inputPerMillion) +
      tokens.outputTokens * price.outputPerMillion) /
    1_000_000
  );
}
