import { parseCommand } from "../../args";
import { withDb } from "../../db";
import { checkIdArgument } from "../../ids";
import { printJson, printLines } from "../../output";

const HELP = `Usage: sam node remove <id> [--json]

Removes a node: its credential stops working at once (its heartbeats, events and channel are
refused), and tasks still on it fail with "node removed" and are re-queued on another node. <id> is
the node's id or a unique prefix of at least 8 characters of it.

Options:
  --json      print the removed node, with "requeued": the ids of the new attempts
  -h, --help  show this help
`;

export async function run(argv: string[]): Promise<void> {
  const { args, help, json } = parseCommand("node remove", argv, { options: {}, positionals: ["id"] });
  if (help) return printLines(HELP.trimEnd());
  await checkIdArgument("node remove", "node", args.id);
  const { removeNode } = await import("@/lib/nodes/manage");
  // The command line acts as the instance admin.
  const node = await withDb((db) => removeNode(db, "operator", args.id));
  if (json) return printJson(node);
  printLines(
    `Removed node ${node.name} (${node.id}); its credential no longer works.`,
    ...(node.requeued.length > 0 ? [`  re-queued: ${node.requeued.join(", ")}`] : []),
  );
}
