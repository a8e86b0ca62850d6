import { SamError } from "@/lib/errors";
import type { IdKind } from "@/lib/ids/resolve-prefix";
import { UsageError } from "./args";

/**
 * Checks an id argument before the database is opened: one too short to be a prefix (fewer than 8
 * characters) or not shaped like an id is a usage error. Which row it names is resolved later, with
 * `resolveIdPrefix`, among the rows the acting user may see.
 */
export async function checkIdArgument(command: string, kind: IdKind, input: string): Promise<void> {
  const { parseIdPrefix } = await import("@/lib/ids/resolve-prefix");
  try {
    parseIdPrefix(kind, input);
  } catch (err) {
    if (SamError.is(err) && err.code === "invalid_input") throw new UsageError(err.message, command);
    throw err;
  }
}
