import { z } from "zod";
import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { getProjectForUser } from "../projects/projects";
import { instanceSecretKey } from "../secrets/instance-key";
import { revealSecret } from "../secrets/store";
import { parseInput } from "../validation";
import {
  type ConnectionResult,
  listModels,
  type ModelConnection,
  type ProviderModel,
  testConnection,
} from "./model-list";
import { baseUrlFor, baseUrlSchema, MODEL_PROVIDERS, PROVIDERS } from "./providers";

/**
 * Which provider to list or test, from Settings before it is saved: the provider picked, the base
 * URL typed (OpenAI-compatible only) and the model chosen.
 */
export const modelConnectionSchema = z
  .object({
    provider: z.enum(MODEL_PROVIDERS, { message: `Provider must be one of ${MODEL_PROVIDERS.join(", ")}` }),
    baseUrl: z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), baseUrlSchema.optional()),
    model: z.string().trim().max(200, { message: "Model is too long" }).optional(),
  })
  .strict();

/**
 * The connection a member may use with the project's key. The key goes only where the project's
 * settings send it: a hosted provider's own URL, or the saved base URL. Trying another base URL
 * sends the key there, so only an owner (who can change the saved one anyway) may.
 */
async function projectConnection(
  db: Db,
  userId: string,
  projectId: string,
  input: unknown,
): Promise<{ connection: ModelConnection; model?: string }> {
  const { provider, baseUrl, model } = parseInput(modelConnectionSchema, input);
  const project = await getProjectForUser(db, userId, projectId);
  const info = PROVIDERS[provider];
  if (baseUrl !== undefined && !info.takesBaseUrl) {
    const message = `${info.label} is always reached at ${info.defaultBaseUrl}; only OpenAI-compatible servers take a base URL`;
    throw new SamError("invalid_input", message, { fields: [{ field: "baseUrl", message }] });
  }
  const saved = baseUrlFor(provider, project.modelBaseUrl);
  const url = baseUrl ?? saved;
  if (url !== undefined && url !== saved && project.role !== "owner") {
    throw new SamError(
      "forbidden",
      "Only a project owner can try a base URL that is not saved: the project's key would be sent there",
    );
  }
  const apiKey = await revealSecret(db, instanceSecretKey(), project.id, info.keySecret);
  return { connection: { provider, baseUrl: url, apiKey }, model: model || undefined };
}

/** The provider's models, live, for the Settings model picker; any member may ask. */
export async function listProjectModels(
  db: Db,
  userId: string,
  projectId: string,
  input: unknown,
): Promise<ProviderModel[]> {
  const { connection } = await projectConnection(db, userId, projectId, input);
  return listModels(connection);
}

/** Settings' Test connection: whether the provider answers with the project's key, and what it says. */
export async function testProjectConnection(
  db: Db,
  userId: string,
  projectId: string,
  input: unknown,
): Promise<ConnectionResult> {
  const { connection, model } = await projectConnection(db, userId, projectId, input);
  return testConnection(connection, model);
}
