import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { instanceSecretKey } from "../secrets/instance-key";
import { revealSecret } from "../secrets/store";

/** The project secrets each provider reads: the key, and for OpenAI-compatible servers the base URL. */
const PROVIDER_SECRETS: Record<string, { key: string; keyRequired: boolean; baseUrl?: string }> = {
  anthropic: { key: "ANTHROPIC_API_KEY", keyRequired: true },
  openai: { key: "OPENAI_API_KEY", keyRequired: true },
  "openai-compatible": { key: "OPENAI_COMPATIBLE_API_KEY", keyRequired: false, baseUrl: "OPENAI_COMPATIBLE_BASE_URL" },
};

export interface ModelCredentials {
  modelApiKey?: string;
  modelBaseUrl?: string;
}

/** What the harness needs to reach the model; `scripted` needs nothing. Missing secrets are named. */
export async function modelCredentials(db: Db, projectId: string, model: string): Promise<ModelCredentials> {
  if (model === "scripted") return {};
  const provider = model.split(":")[0] ?? "";
  const needs = PROVIDER_SECRETS[provider];
  if (!needs) throw new SamError("invalid_input", `Unknown model provider ${JSON.stringify(provider)}`);
  const key = instanceSecretKey();
  const modelApiKey = await revealSecret(db, key, projectId, needs.key);
  if (needs.keyRequired && !modelApiKey) {
    throw new SamError("invalid_input", `The model ${model} needs a ${needs.key} secret in the project's settings`);
  }
  const modelBaseUrl = needs.baseUrl ? await revealSecret(db, key, projectId, needs.baseUrl) : undefined;
  if (needs.baseUrl && !modelBaseUrl) {
    throw new SamError("invalid_input", `The model ${model} needs a ${needs.baseUrl} secret (the server's URL)`);
  }
  return { modelApiKey, modelBaseUrl };
}
