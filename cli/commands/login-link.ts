import { parseCommand } from "../args";
import { withDb } from "../db";
import { printJson, printLines } from "../output";

const HELP = `Usage: sam login-link [--user <email>] [--json]

Prints a fresh one-time sign-in URL for this instance. It works once and expires
(SAM_LOGIN_LINK_TTL_MINUTES, default 15). The base URL is SAM_PUBLIC_URL, else http://HOST:PORT.

Options:
  --user <email>  a link for this user instead of the instance owner
  --json          print {"url", "expiresAt"}
  -h, --help      show this help
`;

export async function run(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("login-link", argv, {
    options: { user: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(HELP.trimEnd());
  const [{ createLoginLink }, { ensureInstanceOwner, findUserByEmail }] = await Promise.all([
    import("@/lib/auth/login-links"),
    import("@/lib/users"),
  ]);
  const link = await withDb(async (db, config) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    return createLoginLink(db, { userId: user.id, baseUrl: config.publicUrl, ttlMs: config.loginLinkTtlMs });
  });
  if (json) printJson({ url: link.url, expiresAt: link.expiresAt });
  else printLines(link.url);
}
