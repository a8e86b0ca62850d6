import type { SamConfig } from "@/lib/config";
import type { RunningServer } from "@/lib/running-server";
import { parseCommand } from "../args";
import { withDb } from "../db";
import { printJson, printLines } from "../output";

const HELP = `Usage: sam login-link [--user <email>] [--json]

Prints a fresh one-time sign-in URL for this instance. It works once and expires
(SAM_LOGIN_LINK_TTL_MINUTES, default 15). The link points at the server \`npm start\` runs on this
data dir (it records its address there), whatever port it listens on. With no server running, it
uses SAM_PUBLIC_URL, else http://HOST:PORT, and says so on stderr.

Options:
  --user <email>  a link for this user instead of the instance owner
  --json          print {"url", "expiresAt"}
  -h, --help      show this help
`;

function warn(message: string): void {
  process.stderr.write(`sam: ${message}\n`);
}

/** The running server's address, else the configured one, with a note on stderr saying why. */
function baseUrlOf(server: RunningServer, config: SamConfig): string {
  if (server.state === "running") return server.record.url.replace(/\/+$/, "");
  if (server.state === "corrupt") warn(`warning: ignoring ${server.file}: ${server.problem}`);
  const why =
    server.state === "stale"
      ? `the server recorded in ${server.file} (process ${server.record.pid}) has stopped`
      : `no running server was found for ${config.dataDir}`;
  warn(`${why}; the link uses ${config.publicUrl} (SAM_PUBLIC_URL, else http://HOST:PORT)`);
  return config.publicUrl;
}

export async function run(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("login-link", argv, {
    options: { user: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(HELP.trimEnd());
  const [{ createLoginLink }, { ensureInstanceOwner, findUserByEmail }, { readServerRecord }] = await Promise.all([
    import("@/lib/auth/login-links"),
    import("@/lib/users"),
    import("@/lib/running-server"),
  ]);
  const link = await withDb(async (db, config) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    const baseUrl = baseUrlOf(readServerRecord(config.dataDir), config);
    return createLoginLink(db, { userId: user.id, baseUrl, ttlMs: config.loginLinkTtlMs });
  });
  if (json) printJson({ url: link.url, expiresAt: link.expiresAt });
  else printLines(link.url);
}
