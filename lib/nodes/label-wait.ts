import { inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes } from "@/db/schema";
import { parseLabels } from "./list";

/**
 * Why a queued task of a project that requires node labels cannot be placed, or null when some live
 * node has them all (it then waits only for a free place, or for no reason at all).
 */
export async function nodeLabelWait(db: Db, projectNodeLabels: string): Promise<string | null> {
  const required = parseLabels(projectNodeLabels);
  if (required.length === 0) return null;
  const live = await db
    .select({ labels: nodes.labels })
    .from(nodes)
    .where(inArray(nodes.status, ["provisioning", "ready", "warm"]));
  if (live.some((n) => required.every((label) => parseLabels(n.labels).includes(label)))) return null;
  return `waiting for a node with the labels ${required.join(", ")}: no live node has them all`;
}
