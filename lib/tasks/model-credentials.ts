import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { projects } from "@/db/schema";
import { SamError } from "../errors";
import { instanceSecretKey } from "../secrets/instance-key";
import { revealSecret } from "../secrets/store";

/**
 * The project secret holding each provider's key. Only an OpenAI-compatible server is reached at a
 * base URL of the project's choosing (its `model_base_url` setting, or the legacy
 * OPENAI_COMPATIBLE_BASE_URL secret): a hosted provider's key is never sent anywhere a setting points.
 */
const PROVIDER_KEYS: Record<string, { key: string; keyRequired: boolean; takesBaseUrl?: boolean }> = {
  anthropic: { key: "ANTHROPIC_API_KEY", keyRequired: true },
  openai: { key: "OPENAI_API_KEY", keyRequired: true },
  google: { key: "GEMINI_API_KEY", keyRequired: true },
  "openai-compatible": { key: "OPENAI_COMPATIBLE_API_KEY", keyRequired: false, takesBaseUrl: true },
};
const LEGACY_BASE_URL_SECRET = "OPENAI_COMPATIBLE_BASE_URL";

export interface ModelCredentials {
  modelApiKey?: string;
  modelBaseUrl?: string;
}

/**
 * What the node needs to reach the model (it keeps the key to itself, behind the session's key
 * endpoint); `scripted` needs nothing. A missing key or base URL is named.
 */
export async function modelCredentials(db: Db, projectId: string, model: string): Promise<ModelCredentials> {
  if (model === "scripted") return {};
  const provider = model.split(":")[0] ?? "";
  const needs = PROVIDER_KEYS[provider];
  if (!needs) throw new SamError("invalid_input", `Unknown model provider ${JSON.stringify(provider)}`);
  const key = instanceSecretKey();
  const modelApiKey = await revealSecret(db, key, projectId, needs.key);
  if (needs.keyRequired && !modelApiKey) {
    throw new SamError("invalid_input", `The model ${model} needs a ${needs.key} secret in the project's settings`);
  }
  if (!needs.takesBaseUrl) return { modelApiKey };
  const project = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { modelBaseUrl: true },
  });
  const modelBaseUrl = project?.modelBaseUrl || (await revealSecret(db, key, projectId, LEGACY_BASE_URL_SECRET));
  if (!modelBaseUrl) {
    throw new SamError(
      "invalid_input",
      `The model ${model} needs the server's base URL in the project's settings (for example http://127.0.0.1:11434/v1)`,
    );
  }
  return { modelApiKey, modelBaseUrl };
}
