import type { z } from "zod";
import { type FieldIssue, SamError } from "./errors";

/** GitHub's rule for user and organization logins: letters, digits and single inner hyphens, at most 39. */
export const GITHUB_LOGIN = /^[a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38}$/i;

/** Parses external input with its schema; a failure names every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: FieldIssue[] = result.error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    // An unknown key is reported on the object that holds it; name the key itself instead.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: [...at, key].join("."), message: "is not a known field" }));
    }
    return [{ field: at.length > 0 ? at.join(".") : "(input)", message: issue.message }];
  });
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  throw new SamError("invalid_input", `Invalid input: ${summary}`, { fields });
}
