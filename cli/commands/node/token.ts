import { UsageError } from "../../args";

export async function run(_argv: string[]): Promise<void> {
  throw new UsageError("sam node token is not built yet", "node token");
}
