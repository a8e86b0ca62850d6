import { and, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes } from "@/db/schema";

export interface SandboxWarning {
  /** A node's name, or null for the instance's own setting (its local nodes to come). */
  node: string | null;
  state: "off" | "unavailable";
  error?: string;
}

/**
 * Why agents on this instance are not confined: the operator turned the sandbox off for the local
 * nodes (`SAM_SANDBOX=off`), or a live node runs agents unconfined or cannot start its sandbox.
 */
export async function sandboxWarnings(db: Db, localSandbox: "on" | "off"): Promise<SandboxWarning[]> {
  const rows = await db
    .select({ name: nodes.name, sandbox: nodes.sandbox, error: nodes.sandboxError })
    .from(nodes)
    .where(
      and(
        inArray(nodes.status, ["provisioning", "ready", "warm", "draining"]),
        inArray(nodes.sandbox, ["off", "unavailable"]),
      ),
    );
  const warnings: SandboxWarning[] = rows.map((row) => ({
    node: row.name,
    state: row.sandbox as "off" | "unavailable",
    ...(row.error ? { error: row.error } : {}),
  }));
  if (localSandbox === "off" && !warnings.some((w) => w.state === "off"))
    warnings.unshift({ node: null, state: "off" });
  return warnings;
}
