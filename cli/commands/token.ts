import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { printJson, printLines } from "../output";

const MINT_HELP = `Usage: sam token mint --task <id> [--json]

Mints a bearer token for a task, as the scheduler does when it starts the task's session: for
debugging the MCP tools and for running an external harness by hand. Anyone holding it acts as
that task until the task ends (then it is revoked). It is printed once and stored only as a hash.
`;

async function mint(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("token mint", argv, {
    options: { task: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(MINT_HELP.trimEnd());
  if (values.task === undefined) throw new UsageError("missing --task <id>", "token mint");
  const [{ mintTaskToken }, { eq }, { tasks }, { SamError }, { isTerminal }] = await Promise.all([
    import("@/lib/auth/task-tokens"),
    import("drizzle-orm"),
    import("@/db/schema"),
    import("@/lib/errors"),
    import("@/lib/tasks/statuses"),
  ]);
  const token = await withDb(async (db) => {
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, values.task!), columns: { status: true } });
    if (!task) throw new SamError("not_found", `No task ${values.task}`);
    if (isTerminal(task.status)) throw new SamError("conflict", `The task is ${task.status}; its tokens are revoked`);
    return mintTaskToken(db, values.task!);
  });
  if (json) return printJson({ token });
  printLines(token);
}

const PERSONAL_HELP = `Usage: sam token personal [--user <email>] [--name N] [--days D] [--json]

Mints a personal API token: scripts send it as \`Authorization: Bearer <token>\` and act as that
user on the HTTP API. It is printed once and stored only as a hash.

Options:
  --user <email>  whose token (default: the instance owner)
  --name <name>   a label for it (default: "cli")
  --days <n>      expire after n days (default: never)
`;

async function personal(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("token personal", argv, {
    options: { user: { type: "string" }, name: { type: "string" }, days: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(PERSONAL_HELP.trimEnd());
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
    throw new UsageError("--days must be a whole number from 1 to 3650", "token personal");
  }
  const [{ mintPersonalToken }, { ensureInstanceOwner, findUserByEmail }] = await Promise.all([
    import("@/lib/auth/personal-tokens"),
    import("@/lib/users"),
  ]);
  const token = await withDb(async (db) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    return mintPersonalToken(db, user.id, values.name ?? "cli", days ? days * 86_400_000 : undefined);
  });
  if (json) return printJson({ token });
  printLines(token);
}

export function run(argv: string[]): Promise<void> {
  return runGroup("token", argv, {
    mint: { summary: "mint a task token", run: mint },
    personal: { summary: "mint a personal API token", run: personal },
  });
}
