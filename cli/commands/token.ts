import type { Db } from "@/db/client";
import type { PersonalToken } from "@/lib/auth/personal-tokens";
import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { checkIdArgument } from "../ids";
import { printJson, printLines, printTable } from "../output";

const MINT_HELP = `Usage: sam token mint --task <id> [--json]

Mints a bearer token for a task, as the scheduler does when it starts the task's session: for
debugging the MCP tools and for running an external harness by hand. Anyone holding it acts as
that task until the task ends (then it is revoked). It is printed once and stored only as a hash.

Options:
  --task <id>  the task: its id, or a unique prefix of at least 8 characters of it
  --json       print {"token"}
  -h, --help   show this help
`;

async function mint(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("token mint", argv, {
    options: { task: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(MINT_HELP.trimEnd());
  const taskArg = values.task;
  if (taskArg === undefined) throw new UsageError("missing --task <id>", "token mint");
  await checkIdArgument("token mint", "task", taskArg);
  const [{ mintTaskToken }, { eq }, { tasks }, { SamError }, { isTerminal }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/auth/task-tokens"),
    import("drizzle-orm"),
    import("@/db/schema"),
    import("@/lib/errors"),
    import("@/lib/tasks/statuses"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const token = await withDb(async (db) => {
    const id = await resolveIdPrefix(db, "task", "operator", taskArg);
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, id), columns: { status: true } });
    if (!task) throw new SamError("not_found", `No task ${taskArg}`);
    if (isTerminal(task.status)) throw new SamError("conflict", `The task is ${task.status}; its tokens are revoked`);
    return mintTaskToken(db, id);
  });
  if (json) return printJson({ token });
  printLines(token);
}

const PERSONAL_HELP = `Usage: sam token personal [--user <email>] [--name N] [--days D] [--json]

Mints a personal API token: scripts send it as \`Authorization: Bearer <token>\` and act as that
user on the HTTP API. It is printed once and stored only as a hash. List tokens with
\`sam token list\`, revoke one with \`sam token revoke <id>\`.

Options:
  --user <email>  whose token (default: the instance owner)
  --name <name>   a label for it (default: "cli")
  --days <n>      expire after n days, 1 to 3650 (default: 90)
  --json          print {"id", "token", "expiresAt"}
`;

const LIST_HELP = `Usage: sam token list [--user <email>] [--json]

Lists a user's personal tokens, newest first: id, name, status (active, expired or revoked),
when each expires and when it was last used. The tokens themselves are never shown again.

Options:
  --user <email>  whose tokens (default: the instance owner)
  --json          print a JSON array of {"id", "name", "status", "createdAt", "expiresAt", "lastUsedAt", "revokedAt"}
`;

const REVOKE_HELP = `Usage: sam token revoke <id> [--json]

Revokes a personal token at once, whoever it belongs to: a call with it gets 401 from then on.
<id> is the id \`sam token list\` shows, or a unique prefix of it of at least 8 characters; a
prefix several tokens share lists them.

Options:
  --json      print the revoked token as JSON
  -h, --help  show this help
`;

async function whose(db: Db, email: string | undefined) {
  const { ensureInstanceOwner, findUserByEmail } = await import("@/lib/users");
  return email === undefined ? ensureInstanceOwner(db) : findUserByEmail(db, email);
}

async function personal(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("token personal", argv, {
    options: { user: { type: "string" }, name: { type: "string" }, days: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(PERSONAL_HELP.trimEnd());
  const { mintPersonalToken } = await import("@/lib/auth/personal-tokens");
  const minted = await withDb(async (db) => {
    const user = await whose(db, values.user);
    return mintPersonalToken(db, user.id, { name: values.name ?? "cli", days: values.days });
  });
  if (json) return printJson(minted);
  printLines(minted.token);
}

function tokenJson(t: PersonalToken) {
  return {
    id: t.id,
    name: t.name,
    status: t.status,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  };
}

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : "-");

async function list(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("token list", argv, {
    options: { user: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(LIST_HELP.trimEnd());
  const { listPersonalTokens } = await import("@/lib/auth/personal-tokens");
  const tokens = await withDb(async (db) => listPersonalTokens(db, (await whose(db, values.user)).id));
  if (json) return printJson(tokens.map(tokenJson));
  if (tokens.length === 0) return printLines("No personal tokens. Mint one with: sam token personal");
  printTable([
    ["ID", "NAME", "STATUS", "EXPIRES", "LAST USED"],
    ...tokens.map((t) => [t.id, t.name, t.status, day(t.expiresAt), day(t.lastUsedAt)]),
  ]);
}

async function revoke(argv: string[]): Promise<void> {
  const { args, help, json } = parseCommand("token revoke", argv, { options: {}, positionals: ["id"] });
  if (help) return printLines(REVOKE_HELP.trimEnd());
  await checkIdArgument("token revoke", "personal token", args.id);
  const { revokePersonalToken } = await import("@/lib/auth/personal-tokens");
  const revoked = await withDb((db) => revokePersonalToken(db, "operator", args.id));
  if (json) return printJson(tokenJson(revoked));
  printLines(`Revoked personal token ${revoked.name} (${revoked.id})`);
}

export function run(argv: string[]): Promise<void> {
  return runGroup("token", argv, {
    mint: { summary: "mint a task token", run: mint },
    personal: { summary: "mint a personal API token (expires in 90 days by default)", run: personal },
    list: { summary: "list a user's personal tokens", run: list },
    revoke: { summary: "revoke a personal token", run: revoke },
  });
}
