import { parseArgs } from "node:util";
import type { Db } from "@/db/client";
import type { NotificationView } from "@/lib/notifications/list";
import { parseCommand, UsageError } from "../args";
import { withDb } from "../db";
import { printJson, printLines, printTable } from "../output";

const USER_OPTION = `  --user <email>  whose notifications (default: the instance owner)`;

const LIST_HELP = `Usage: sam notifications [--unread] [--limit N] [--user <email>] [--json]
       sam notifications read <id...> | --all [--user <email>] [--json]

Lists a user's notifications, most recently changed first: tasks that need an answer, completed
or failed, pull requests opened or merged, progress. Only those of projects the user is a member
of. \`sam notifications read\` marks some (by id) or all of them read.

Options:
  --unread        only the unread ones
  --limit <n>     at most n, 1 to 200 (default: 50)
${USER_OPTION}
  --json          print a JSON array of {"id", "kind", "urgency", "projectId", "projectName", "taskId",
                  "title", "body", "createdAt", "updatedAt", "readAt"}, as GET /api/notifications
  -h, --help      show this help
`;

const READ_HELP = `Usage: sam notifications read <id...> | --all [--user <email>] [--json]

Marks notifications read: the ones whose ids are given (as \`sam notifications\` shows them), or
--all of them. Ids that are not the user's are left alone.

Options:
  --all           every unread notification of the user
${USER_OPTION}
  --json          print {"marked": n}
  -h, --help      show this help
`;

async function whose(db: Db, email: string | undefined) {
  const { ensureInstanceOwner, findUserByEmail } = await import("@/lib/users");
  return email === undefined ? ensureInstanceOwner(db) : findUserByEmail(db, email);
}

const when = (d: Date) => d.toISOString().slice(0, 16).replace("T", " ");

async function list(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("notifications", argv, {
    options: { unread: { type: "boolean" }, limit: { type: "string" }, user: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(LIST_HELP.trimEnd());
  const { listNotifications } = await import("@/lib/notifications/list");
  const items: NotificationView[] = await withDb(async (db) =>
    listNotifications(db, (await whose(db, values.user)).id, {
      ...(values.unread ? { unread: "1" } : {}),
      ...(values.limit === undefined ? {} : { limit: values.limit }),
    }),
  );
  if (json) return printJson(items);
  if (items.length === 0) return printLines(values.unread ? "No unread notifications." : "No notifications.");
  printTable([
    ["ID", "", "KIND", "PROJECT", "WHEN (UTC)", "TITLE"],
    ...items.map((n) => [n.id, n.readAt ? "" : "•", n.kind, n.projectName, when(n.updatedAt), n.title]),
  ]);
}

async function read(argv: string[]): Promise<void> {
  const { values, help, json, positionals } = parseRead(argv);
  if (help) return printLines(READ_HELP.trimEnd());
  if (values.all && positionals.length > 0) {
    throw new UsageError("give notification ids or --all, not both", "notifications read");
  }
  if (!values.all && positionals.length === 0) throw new UsageError("missing <id...> or --all", "notifications read");
  const { markNotificationsRead } = await import("@/lib/notifications/list");
  const marked = await withDb(async (db) =>
    markNotificationsRead(db, (await whose(db, values.user)).id, values.all ? { all: true } : { ids: positionals }),
  );
  if (json) return printJson({ marked });
  printLines(`Marked ${marked} notification${marked === 1 ? "" : "s"} read.`);
}

const READ_OPTIONS = { all: { type: "boolean" }, user: { type: "string" } } as const;

/**
 * `read` takes any number of ids, which parseCommand (a fixed list of positionals) does not: the
 * ids are picked out first (an option's value is not one), the rest is parsed strictly.
 */
function parseRead(argv: string[]) {
  const { tokens } = parseArgs({
    args: argv,
    options: READ_OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const idAt = new Set(tokens.flatMap((t) => (t.kind === "positional" ? [t.index] : [])));
  const parsed = parseCommand(
    "notifications read",
    argv.filter((_, i) => !idAt.has(i)),
    { options: READ_OPTIONS, positionals: [] },
  );
  return { ...parsed, positionals: argv.filter((_, i) => idAt.has(i)) };
}

export function run(argv: string[]): Promise<void> {
  if (argv[0] === "read") return read(argv.slice(1));
  return list(argv);
}
