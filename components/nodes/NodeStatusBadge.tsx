import type { NodeListStatus } from "@/lib/nodes/list";

const COLORS: Record<NodeListStatus, string> = {
  provisioning: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
  ready: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  busy: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
  draining: "bg-violet-100 text-violet-800 dark:bg-violet-950 dark:text-violet-300",
  lost: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  destroyed: "bg-zinc-100 text-zinc-700 dark:bg-zinc-900 dark:text-zinc-400",
};

/** A node's status as a coloured word; why, when the node says (lost, failed to start). */
export function NodeStatusBadge({ status, reason }: { status: NodeListStatus; reason: string | null }) {
  return (
    <span
      data-testid="node-status"
      title={reason ?? undefined}
      className={`rounded px-1.5 py-0.5 text-xs font-medium ${COLORS[status]}`}
    >
      {status}
    </span>
  );
}
