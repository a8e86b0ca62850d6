/**
 * Models by `provider:model`. Credentials come only from the session (the project's secrets, sent
 * over ACP): a provider is never allowed to fall back to an API key in the process environment.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV3 } from "./model-spec.ts";
import { createScriptedModel } from "./scripted-model.ts";

export interface ModelSettings {
  /** `scripted` or `provider:model`; the model id may itself contain colons (`llama3.1:8b`). */
  model: string;
  apiKey?: string;
  baseUrl?: string;
}

const USAGE = "use scripted, anthropic:<model>, openai:<model> or openai-compatible:<model>";

function requireKey(spec: string, apiKey: string | undefined): string {
  if (!apiKey) throw new Error(`model ${spec} needs an API key: store the provider's key as a project secret`);
  return apiKey;
}

/** The language model for `settings`; throws a message fit for the user if it cannot be made. */
export function resolveModel({ model: spec, apiKey, baseUrl }: ModelSettings): LanguageModelV3 {
  if (spec === "scripted") return createScriptedModel();
  const colon = spec.indexOf(":");
  const provider = colon > 0 ? spec.slice(0, colon) : "";
  const id = colon > 0 ? spec.slice(colon + 1) : "";
  if (!provider || !id) throw new Error(`model "${spec}" is not of the form provider:model; ${USAGE}`);
  switch (provider) {
    case "anthropic":
      return createAnthropic({ apiKey: requireKey(spec, apiKey), baseURL: baseUrl })(id);
    case "openai":
      return createOpenAI({ apiKey: requireKey(spec, apiKey), baseURL: baseUrl })(id);
    case "openai-compatible":
      if (!baseUrl) throw new Error(`model ${spec} needs a base URL (for example http://127.0.0.1:11434/v1)`);
      // Servers report a streamed turn's usage only when asked (`stream_options.include_usage`).
      return createOpenAICompatible({ name: "openai-compatible", baseURL: baseUrl, apiKey, includeUsage: true })(id);
    default:
      throw new Error(`unknown model provider "${provider}" in "${spec}"; ${USAGE}`);
  }
}
