import { unstable_rethrow } from "next/navigation";
import { type ActionState, submittedValues } from "@/components/forms/action-state";
import { type FieldIssue, toSamError } from "@/lib/errors";

/** A field's message as a sentence of its own: "must be owner or member" becomes "Must be owner or member". */
const sentence = (message: string) => message.charAt(0).toUpperCase() + message.slice(1);

/** An issue no field of the form shows, named so it still reads on its own. */
const standalone = (issue: FieldIssue) =>
  /^[A-Z]/.test(issue.message) ? issue.message : `${issue.field} ${issue.message}`;

/**
 * Turns a failure inside a server action into form state; Next's redirects pass through. Given the
 * submitted form, each issue about one of its fields goes next to that field, only the rest make the
 * general error, and the submitted values come back so the form can show them again.
 */
export function actionError(err: unknown, formData?: FormData): ActionState {
  unstable_rethrow(err);
  const samError = toSamError(err);
  if (samError.code === "internal") console.error(err);
  const issues = samError.details?.fields ?? [];
  if (!formData) {
    const fields: Record<string, string> = {};
    for (const issue of issues) fields[issue.field] ??= sentence(issue.message);
    return { error: samError.message, fields };
  }
  const values = submittedValues(formData);
  const fields: Record<string, string> = {};
  const others: string[] = [];
  for (const issue of issues) {
    if (issue.field in values) fields[issue.field] ??= sentence(issue.message);
    else others.push(standalone(issue));
  }
  const error = issues.length === 0 ? samError.message : others.length > 0 ? others.join("\n") : undefined;
  return { error, fields, values };
}
