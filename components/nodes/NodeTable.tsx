import { ActionButton } from "@/components/forms/ActionButton";
import type { FormAction } from "@/components/forms/action-state";
import type { NodeListEntry } from "@/lib/nodes/list";
import { NodeStatusBadge } from "./NodeStatusBadge";

export interface NodeRow extends NodeListEntry {
  /** "12 s ago", "never". */
  lastSeen: string;
  drainAction: FormAction;
  removeAction: FormAction;
}

function money(cost: NodeListEntry["cost"]): string {
  return cost ? `${cost.amount.toFixed(2)} ${cost.currency}` : "-";
}

/** Every node: what it is, how busy, when last heard from, and buttons to drain or remove it. */
export function NodeTable({ nodes }: { nodes: NodeRow[] }) {
  if (nodes.length === 0) {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        No nodes yet. A task starts a local one; <code>sam node token</code> joins another machine.
      </p>
    );
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" aria-label="Nodes">
        <thead className="text-xs text-zinc-600 dark:text-zinc-400">
          <tr>
            <th className="py-1 pr-3 font-normal">Name</th>
            <th className="py-1 pr-3 font-normal">Kind</th>
            <th className="py-1 pr-3 font-normal">Status</th>
            <th className="py-1 pr-3 font-normal">Running</th>
            <th className="py-1 pr-3 font-normal">Labels</th>
            <th className="py-1 pr-3 font-normal">Sandbox</th>
            <th className="py-1 pr-3 font-normal">Last seen</th>
            <th className="py-1 pr-3 font-normal">Version</th>
            <th className="py-1 pr-3 font-normal">Cost so far</th>
            <th />
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {nodes.map((n) => (
            <tr key={n.id} data-testid="node-row" data-node-id={n.id}>
              <td className="py-2 pr-3">
                <span className="font-medium">{n.name}</span>{" "}
                <span className="font-mono text-xs text-zinc-600 dark:text-zinc-400">{n.id.slice(0, 8)}</span>
              </td>
              <td className="py-2 pr-3">{n.kind}</td>
              <td className="py-2 pr-3">
                <NodeStatusBadge status={n.status} reason={n.statusReason} />
              </td>
              <td className="py-2 pr-3" data-testid="node-running">
                {n.running}/{n.capacity}
              </td>
              <td className="py-2 pr-3">{n.labels.length > 0 ? n.labels.join(", ") : "-"}</td>
              <td className={`py-2 pr-3 ${n.sandbox === "on" ? "" : "text-red-700 dark:text-red-400"}`}>
                {n.sandbox ?? "-"}
              </td>
              <td className="py-2 pr-3">{n.lastSeen}</td>
              <td className="py-2 pr-3">{n.version ?? "-"}</td>
              <td className="py-2 pr-3">{money(n.cost)}</td>
              <td className="py-2">
                <div className="flex justify-end gap-2">
                  {n.status === "ready" || n.status === "busy" || n.status === "provisioning" ? (
                    <ActionButton action={n.drainAction} label="Drain" />
                  ) : null}
                  {n.status === "destroyed" ? null : <ActionButton action={n.removeAction} label="Remove" danger />}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
