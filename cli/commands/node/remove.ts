import { UsageError } from "../../args";

export async function run(_argv: string[]): Promise<void> {
  throw new UsageError("sam node remove is not built yet", "node remove");
}
