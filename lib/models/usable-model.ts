import { HARNESS_MODEL_PROVIDERS, type HarnessKind } from "@sam/agent-daemon/contract";
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { secrets } from "@/db/schema";
import { SamError } from "../errors";
import { missingKeyMessage } from "./model-list";
import { baseUrlFor, MISSING_BASE_URL, PROVIDERS, splitModel } from "./providers";

/**
 * Refuses a model that could not be reached: an OpenAI-compatible server without its base URL, or a
 * provider that needs a key the project has not stored (naming the secret to add). Said when the
 * setting is saved, not when a task first reaches the provider.
 */
export async function assertModelUsable(
  db: Db,
  projectId: string,
  model: string,
  modelBaseUrl: string | null,
): Promise<void> {
  const spec = splitModel(model);
  if (spec.provider === "scripted") return;
  if (!baseUrlFor(spec.provider, modelBaseUrl)) {
    throw new SamError("invalid_input", MISSING_BASE_URL, {
      fields: [{ field: "modelBaseUrl", message: MISSING_BASE_URL }],
      problem: "missing_base_url",
    });
  }
  if (!PROVIDERS[spec.provider].keyRequired) return;
  const stored = await db.query.secrets.findFirst({
    where: and(eq(secrets.projectId, projectId), eq(secrets.name, PROVIDERS[spec.provider].keySecret)),
    columns: { id: true },
  });
  if (stored) return;
  const message = `${missingKeyMessage(spec.provider)} before choosing ${model}`;
  throw new SamError("invalid_input", message, { fields: [{ field: "model", message }], problem: "missing_key" });
}

/** Refuses a model the harness cannot run (Claude Code speaks only to Anthropic, say), naming those it can. */
export function assertHarnessRunsModel(harness: HarnessKind, model: string): void {
  const provider = splitModel(model).provider;
  const accepted: readonly string[] = HARNESS_MODEL_PROVIDERS[harness];
  if (accepted.includes(provider)) return;
  const choices = accepted.filter((p) => p !== "scripted").join(", ");
  const message =
    provider === "scripted"
      ? `The ${harness} harness needs a real model (scripted only drives SAM's built-in agent): choose one from ${choices}`
      : `The ${harness} harness cannot run ${provider} models: choose one from ${choices}`;
  throw new SamError("invalid_input", message, { fields: [{ field: "model", message }], problem: "harness_model" });
}
