import type { z } from "zod";
import { type FieldIssue, SamError } from "./errors";

/** Parses external input with its schema; a failure names every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: FieldIssue[] = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join(".") : "(input)",
    message: issue.message,
  }));
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  throw new SamError("invalid_input", `Invalid input: ${summary}`, { fields });
}
