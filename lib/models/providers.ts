import { z } from "zod";

/** The model providers a project can use besides the offline `scripted` model. */
export const MODEL_PROVIDERS = ["anthropic", "openai", "google", "openai-compatible"] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

export interface ProviderInfo {
  label: string;
  /** The project secret that holds the provider's API key. */
  keySecret: string;
  /** Whether the provider cannot be used without that key (local OpenAI-compatible servers often need none). */
  keyRequired: boolean;
  /** Where a hosted provider is always reached; absent for a server the project names. */
  defaultBaseUrl?: string;
  /** An example of the base URL the project names, for a server without a default. */
  exampleBaseUrl?: string;
  /**
   * Whether the project's base URL setting applies. The hosted providers are always reached at their
   * own URL, so that their key is never sent anywhere a setting points.
   */
  takesBaseUrl: boolean;
}

export const PROVIDERS: Record<ModelProvider, ProviderInfo> = {
  anthropic: {
    label: "Anthropic",
    keySecret: "ANTHROPIC_API_KEY",
    keyRequired: true,
    defaultBaseUrl: "https://api.anthropic.com/v1",
    takesBaseUrl: false,
  },
  openai: {
    label: "OpenAI",
    keySecret: "OPENAI_API_KEY",
    keyRequired: true,
    defaultBaseUrl: "https://api.openai.com/v1",
    takesBaseUrl: false,
  },
  // Gemini's API (the Gemini CLI harness uses it).
  google: {
    label: "Google Gemini",
    keySecret: "GEMINI_API_KEY",
    keyRequired: true,
    defaultBaseUrl: "https://generativelanguage.googleapis.com/v1beta",
    takesBaseUrl: false,
  },
  "openai-compatible": {
    label: "OpenAI-compatible server",
    keySecret: "OPENAI_COMPATIBLE_API_KEY",
    keyRequired: false,
    // No default: the web app and the nodes may be different machines, and each must reach it.
    exampleBaseUrl: "http://127.0.0.1:11434/v1",
    takesBaseUrl: true,
  },
};

export function isModelProvider(value: string): value is ModelProvider {
  return (MODEL_PROVIDERS as readonly string[]).includes(value);
}

/** `scripted`, or the provider and the model id of `provider:model` (the id may itself hold colons). */
export function splitModel(model: string): { provider: "scripted" } | { provider: ModelProvider; id: string } {
  if (model === "scripted") return { provider: "scripted" };
  const colon = model.indexOf(":");
  const provider = colon > 0 ? model.slice(0, colon) : "";
  if (!isModelProvider(provider)) throw new Error(`Not a provider:model of a known provider: ${model}`);
  return { provider, id: model.slice(colon + 1) };
}

/**
 * Where a provider is reached: the project's base URL for an OpenAI-compatible server (undefined
 * until one is set), else the provider's own.
 */
export function baseUrlFor(provider: ModelProvider, modelBaseUrl: string | null | undefined): string | undefined {
  const info = PROVIDERS[provider];
  return info.takesBaseUrl ? modelBaseUrl || undefined : info.defaultBaseUrl;
}

/** What is said when an OpenAI-compatible server's base URL is not set. */
export const MISSING_BASE_URL =
  "An OpenAI-compatible server needs its base URL, for example http://127.0.0.1:11434/v1 (Ollama)";

/** An OpenAI-compatible server's base URL as users type it: http(s), no credentials, no trailing slash. */
export const baseUrlSchema = z
  .url({ protocol: /^https?$/, message: "Base URL must be an http(s) URL such as http://127.0.0.1:11434/v1" })
  .max(2000, { message: "Base URL is too long" })
  .refine((u) => !new URL(u).username && !new URL(u).password, {
    message: "Base URL must not carry credentials; store the key as an OPENAI_COMPATIBLE_API_KEY secret",
  })
  .transform((u) => u.replace(/\/+$/, ""));
