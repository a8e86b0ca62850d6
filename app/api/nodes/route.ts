import { z } from "zod";
import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { listCloudHealth } from "@/lib/nodes/cloud-health";
import { listNodes } from "@/lib/nodes/list";
import { requireAdmin } from "@/lib/users";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

const querySchema = z.object({ all: z.enum(["0", "1", "true", "false"]).optional() }).strict();

/**
 * The nodes (removed ones with `?all=1`) as `sam node list --json` gives them, and how each cloud
 * setting's VM creation fares; the instance admin only.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const user = await requireApiUser();
    const db = getDb();
    await requireAdmin(db, { userId: user.id }, "see the nodes");
    const { all } = parseInput(querySchema, Object.fromEntries(new URL(req.url).searchParams));
    const [nodes, cloudSettings] = await Promise.all([
      listNodes(db, { all: all === "1" || all === "true" }),
      listCloudHealth(db),
    ]);
    return Response.json({ nodes, cloudSettings });
  });
}
