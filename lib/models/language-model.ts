import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import type { Db } from "@/db/client";
import type { projects } from "@/db/schema";
import { SamError } from "../errors";
import { instanceSecretKey } from "../secrets/instance-key";
import { revealSecret } from "../secrets/store";
import { missingKeyMessage } from "./model-list";
import { baseUrlFor, MISSING_BASE_URL, PROVIDERS, splitModel } from "./providers";

/**
 * A project's model for the web app's own short calls (a session's title), with the project's key:
 * server side only. Undefined for `scripted`, which has nothing to say outside a task.
 */
export async function projectLanguageModel(
  db: Db,
  project: Pick<typeof projects.$inferSelect, "id" | "modelBaseUrl">,
  model: string,
): Promise<LanguageModel | undefined> {
  const spec = splitModel(model);
  if (spec.provider === "scripted") return undefined;
  const info = PROVIDERS[spec.provider];
  const apiKey = await revealSecret(db, instanceSecretKey(), project.id, info.keySecret);
  if (info.keyRequired && !apiKey) throw new SamError("invalid_input", missingKeyMessage(spec.provider));
  const baseURL = baseUrlFor(spec.provider, project.modelBaseUrl);
  if (!baseURL) throw new SamError("invalid_input", MISSING_BASE_URL);
  switch (spec.provider) {
    case "anthropic":
      return createAnthropic({ apiKey, baseURL })(spec.id);
    case "openai":
      return createOpenAI({ apiKey, baseURL })(spec.id);
    case "google":
      // Gemini's OpenAI-compatible endpoint: the providers the web app already has speak it.
      return createOpenAICompatible({ name: "google", baseURL: `${baseURL}/openai`, apiKey })(spec.id);
    case "openai-compatible":
      return createOpenAICompatible({ name: "openai-compatible", baseURL, apiKey })(spec.id);
  }
}
