import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { secrets } from "@/db/schema";
import { SamError } from "../errors";
import { missingKeyMessage } from "./model-list";
import { PROVIDERS, splitModel } from "./providers";

/**
 * Refuses a model whose provider needs a key the project has not stored, naming the secret to add:
 * said when the setting is saved, not when a task first reaches the provider.
 */
export async function assertModelKeyStored(db: Db, projectId: string, model: string): Promise<void> {
  const spec = splitModel(model);
  if (spec.provider === "scripted" || !PROVIDERS[spec.provider].keyRequired) return;
  const stored = await db.query.secrets.findFirst({
    where: and(eq(secrets.projectId, projectId), eq(secrets.name, PROVIDERS[spec.provider].keySecret)),
    columns: { id: true },
  });
  if (stored) return;
  const message = `${missingKeyMessage(spec.provider)} before choosing ${model}`;
  throw new SamError("invalid_input", message, { fields: [{ field: "model", message }], problem: "missing_key" });
}
