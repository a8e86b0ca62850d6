import { parseCommand } from "../../args";
import { withDb } from "../../db";
import { printJson, printLines, printTable } from "../../output";

const HELP = `Usage: sam node list [--all] [--json]

Lists the nodes: kind (local, joined, hetzner), status (provisioning, ready, busy, draining, lost),
running tasks and capacity, labels, sandbox, when it was last heard from, its daemon's version and,
for cloud VMs, the cost so far. Removed nodes are listed only with --all.

Options:
  --all       also list removed (destroyed) nodes
  --json      print a JSON array
  -h, --help  show this help
`;

export async function run(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("node list", argv, {
    options: { all: { type: "boolean" } },
    positionals: [],
  });
  if (help) return printLines(HELP.trimEnd());
  const { listNodes } = await import("@/lib/nodes/list");
  const list = await withDb((db) => listNodes(db, { all: values.all === true }));
  if (json) return printJson(list);
  if (list.length === 0)
    return printLines("No nodes yet. A task starts a local one; `sam node token` joins a machine.");
  printTable([
    ["ID", "NAME", "KIND", "STATUS", "RUNNING", "LABELS", "SANDBOX", "LAST SEEN", "VERSION", "COST"],
    ...list.map((n) => [
      n.id,
      n.name,
      n.kind,
      n.status,
      `${n.running}/${n.capacity}`,
      n.labels.join(",") || "-",
      n.sandbox ?? "-",
      n.lastSeenAt ?? "never",
      n.version ?? "-",
      n.cost ? `${n.cost.amount} ${n.cost.currency}` : "-",
    ]),
  ]);
}
