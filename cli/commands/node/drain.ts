import { parseCommand } from "../../args";
import { withDb } from "../../db";
import { checkIdArgument } from "../../ids";
import { printJson, printLines } from "../../output";

const HELP = `Usage: sam node drain <id> [--json]

Stops giving a node new work; the tasks running on it finish. A drained node stays draining (a cloud
VM is deleted once idle); remove it with \`sam node remove\`. <id> is the node's id or a unique prefix
of at least 8 characters of it.

Options:
  --json      print the node as \`sam node list --json\` shows it
  -h, --help  show this help
`;

export async function run(argv: string[]): Promise<void> {
  const { args, help, json } = parseCommand("node drain", argv, { options: {}, positionals: ["id"] });
  if (help) return printLines(HELP.trimEnd());
  await checkIdArgument("node drain", "node", args.id);
  const { drainNode } = await import("@/lib/nodes/manage");
  // The command line acts as the instance admin.
  const node = await withDb((db) => drainNode(db, "operator", args.id));
  if (json) return printJson(node);
  printLines(`Draining node ${node.name} (${node.id}): no new work; ${node.running} task(s) still running on it.`);
}
