import { UsageError } from "../../args";

export async function run(_argv: string[]): Promise<void> {
  throw new UsageError("sam node drain is not built yet", "node drain");
}
