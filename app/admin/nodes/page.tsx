import { requireUser } from "@/app/current-user";
import { CloudFailures } from "@/components/nodes/CloudFailures";
import { NodesAutoRefresh } from "@/components/nodes/NodesAutoRefresh";
import { NodeTable } from "@/components/nodes/NodeTable";
import { getDb } from "@/db/client";
import { listCloudHealth } from "@/lib/nodes/cloud-health";
import { listNodes } from "@/lib/nodes/list";
import { drainNodeAction, removeNodeAction } from "./actions";

export const dynamic = "force-dynamic";

function ago(iso: string | null, now: Date): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** The machines that run agents: local daemons, joined machines and cloud VMs; the admin manages them. */
export default async function NodesPage() {
  const user = await requireUser();
  if (!user.isInstanceOwner) {
    return (
      <div className="max-w-4xl space-y-2">
        <h1 className="text-2xl font-semibold tracking-tight">Nodes</h1>
        <p role="note" className="text-sm text-zinc-600 dark:text-zinc-400">
          Only the instance admin manages nodes.
        </p>
      </div>
    );
  }
  const db = getDb();
  const [nodes, cloud] = await Promise.all([listNodes(db), listCloudHealth(db)]);
  const now = new Date();
  return (
    <div className="max-w-6xl space-y-8">
      <NodesAutoRefresh />
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Nodes</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          The machines agents run on. Drain a node to give it no new work while its tasks finish; remove it to revoke
          its credential at once (tasks still on it are re-queued on another node). Join a machine with{" "}
          <code>sam node token</code>.
        </p>
      </div>
      <section className="space-y-3">
        <NodeTable
          nodes={nodes.map((n) => ({
            ...n,
            lastSeen: ago(n.lastSeenAt, now),
            drainAction: drainNodeAction.bind(null, n.id),
            removeAction: removeNodeAction.bind(null, n.id),
          }))}
        />
      </section>
      <section className="space-y-3">
        <h2 className="font-medium">Cloud VMs</h2>
        <CloudFailures settings={cloud} now={now} />
      </section>
    </div>
  );
}
