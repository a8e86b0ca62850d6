import type { SecretSummary } from "@/lib/secrets/store";
import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { checkIdArgument } from "../ids";
import { printJson, printLines, printTable } from "../output";

const SET_HELP = `Usage: sam secret set <project-id> <NAME> [--kind model_api_key|git_token|other] [--user <email>] [--json]

Stores a project secret, encrypted, replacing one of the same name. The value is read from
standard input, never from the command line (where other users of the host could see it); one
trailing newline is dropped. At a terminal it is typed without being shown.

  printf %s "$OPENAI_API_KEY" | sam secret set 3f2a9c1e OPENAI_API_KEY

Model providers read ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY and
OPENAI_COMPATIBLE_API_KEY; pull requests on GitHub read GITHUB_TOKEN.

Options:
  --kind <kind>   model_api_key, git_token or other (default: from the name)
  --user <email>  act as this owner (default: the instance owner)
  --json          print {"name", "kind", "last4", "masked", "updatedAt"}
  -h, --help      show this help
`;

const LIST_HELP = `Usage: sam secret list <project-id> [--user <email>] [--json]

Lists a project's secrets: names, kinds and the last four characters of each value (values of
fewer than 12 characters show none, so that a short one is not half given away). Values are never
shown.

Options:
  --user <email>  act as this member (default: the instance owner)
  --json          print a JSON array of {"name", "kind", "last4", "masked", "updatedAt"}
  -h, --help      show this help
`;

/** The kind a secret's name suggests, when --kind is not given. */
function kindFromName(name: string): string {
  if (name.endsWith("_API_KEY")) return "model_api_key";
  if (/(^|_)(GIT|GITHUB|GITLAB)_TOKEN$/.test(name)) return "git_token";
  return "other";
}

/** Standard input, whole; at a terminal, one line typed without echo. */
export async function readValue(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  process.stderr.write("Value (not shown): ");
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = "";
      stdin.on("data", (data: Buffer) => {
        for (const char of data.toString("utf8")) {
          if (char === "\r" || char === "\n") return resolve(value);
          if (char === "\u0003") return reject(new UsageError("cancelled", "secret set"));
          if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
          else value += char;
        }
      });
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

/** The stable JSON shape of a secret: never its value, only its last four characters when it is long. */
function secretJson(secret: SecretSummary) {
  return {
    name: secret.name,
    kind: secret.kind,
    last4: secret.last4,
    masked: secret.masked,
    updatedAt: secret.updatedAt,
  };
}

async function set(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("secret set", argv, {
    options: { kind: { type: "string" }, user: { type: "string" } },
    positionals: ["project-id", "NAME"],
  });
  if (help) return printLines(SET_HELP.trimEnd());
  await checkIdArgument("secret set", "project", args["project-id"]);
  const value = (await readValue()).replace(/\r?\n$/, "");
  if (value === "") throw new UsageError("no value on standard input", "secret set");
  const [{ setSecret }, { instanceSecretKey }, { ensureInstanceOwner, findUserByEmail }, { resolveIdPrefix }] =
    await Promise.all([
      import("@/lib/secrets/store"),
      import("@/lib/secrets/instance-key"),
      import("@/lib/users"),
      import("@/lib/ids/resolve-prefix"),
    ]);
  const saved = await withDb(async (db) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    const projectId = await resolveIdPrefix(db, "project", { userId: user.id }, args["project-id"]);
    return setSecret(db, instanceSecretKey(), user.id, projectId, {
      name: args.NAME,
      kind: values.kind ?? kindFromName(args.NAME),
      value,
    });
  });
  if (json) return printJson(secretJson(saved));
  printLines(`Saved secret ${saved.name} (${saved.kind}, ${saved.masked})`);
}

async function list(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("secret list", argv, {
    options: { user: { type: "string" } },
    positionals: ["project-id"],
  });
  if (help) return printLines(LIST_HELP.trimEnd());
  await checkIdArgument("secret list", "project", args["project-id"]);
  const [{ listSecrets }, { ensureInstanceOwner, findUserByEmail }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/secrets/store"),
    import("@/lib/users"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const secrets = await withDb(async (db) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    const projectId = await resolveIdPrefix(db, "project", { userId: user.id }, args["project-id"]);
    return listSecrets(db, user.id, projectId);
  });
  if (json) return printJson(secrets.map(secretJson));
  if (secrets.length === 0) return printLines("No secrets. Add one with: sam secret set <project-id> <NAME>");
  printTable([
    ["NAME", "KIND", "VALUE", "UPDATED"],
    ...secrets.map((s) => [s.name, s.kind, s.masked, s.updatedAt.toISOString().slice(0, 10)]),
  ]);
}

export function run(argv: string[]): Promise<void> {
  return runGroup("secret", argv, {
    set: { summary: "store a project secret, read from standard input", run: set },
    list: { summary: "list a project's secrets (names and last four characters)", run: list },
  });
}
