import { unstable_rethrow } from "next/navigation";
import type { ActionState } from "@/components/forms/action-state";
import { toSamError } from "@/lib/errors";

/** Turns a failure inside a server action into form state; Next's redirects pass through. */
export function actionError(err: unknown): ActionState {
  unstable_rethrow(err);
  const samError = toSamError(err);
  if (samError.code === "internal") console.error(err);
  const fields: Record<string, string> = {};
  for (const issue of samError.details?.fields ?? []) fields[issue.field] ??= issue.message;
  return { error: samError.message, fields };
}
