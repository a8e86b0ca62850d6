import type { User } from "@/lib/users";
import { parseCommand, runGroup } from "../args";
import { withDb } from "../db";
import { printJson, printLines, printTable } from "../output";

const ADD_HELP = `Usage: sam user add <email> [--name <name>] [--json]

Adds a local user. They sign in through a link from \`sam login-link --user <email>\`
and see the projects they are made a member of.

Options:
  --name <name>  display name (default: the part of the email before @)
  --json         print the user as JSON
  -h, --help     show this help
`;

const LIST_HELP = `Usage: sam user list [--json]

Lists the users of this instance.

Options:
  --json      print a JSON array
  -h, --help  show this help
`;

function userJson(user: User) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    isInstanceOwner: user.isInstanceOwner,
    createdAt: user.createdAt,
  };
}

async function add(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("user add", argv, {
    options: { name: { type: "string" } },
    positionals: ["email"],
  });
  if (help) return printLines(ADD_HELP.trimEnd());
  const { createLocalUser } = await import("@/lib/users");
  const user = await withDb((db) => createLocalUser(db, { email: args.email, name: values.name }));
  if (json) printJson(userJson(user));
  else printLines(`Added user ${user.email} (${user.id}). Sign-in link: sam login-link --user ${user.email}`);
}

async function list(argv: string[]): Promise<void> {
  const { help, json } = parseCommand("user list", argv, { options: {}, positionals: [] });
  if (help) return printLines(LIST_HELP.trimEnd());
  const { listUsers } = await import("@/lib/users");
  const users = await withDb((db) => listUsers(db));
  if (json) return printJson(users.map(userJson));
  if (users.length === 0) return printLines("No users yet.");
  printTable([
    ["ID", "EMAIL", "NAME", ""],
    ...users.map((u) => [u.id, u.email ?? "-", u.name ?? "-", u.isInstanceOwner ? "instance owner" : ""]),
  ]);
}

export function run(argv: string[]): Promise<void> {
  return runGroup("user", argv, {
    add: { summary: "add a local user", run: add },
    list: { summary: "list the users of this instance", run: list },
  });
}
