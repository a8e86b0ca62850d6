import { nodeLabelsSchema } from "@sam/agent-daemon/contract";
import { z } from "zod";
import { parseCommand } from "../../args";
import { withDb } from "../../db";
import { printJson, printLines } from "../../output";

const HELP = `Usage: sam node token [--labels a,b] [--ttl-minutes N] [--json]

Makes a one-use token that joins a machine as a node, and prints the command to run there
(Node.js 20 or later, git and bubblewrap installed):

  npx sam daemon --join <this server's URL> --token <token>

The token works once and expires; only its hash is stored. The node keeps a command channel open
to this server, so this server never has to reach it (NAT, serverless hosts).

Options:
  --labels a,b       labels the node gets (a project may require labels of its nodes)
  --ttl-minutes <n>  how long the token can be used, 1 to 10080 (default: 60)
  --json             print {"token", "joinCommand", "expiresAt", "labels"}
  -h, --help         show this help
`;

const ttlMessage = "must be a whole number of minutes (1-10080)";

/** The command line's input: labels separated by commas, a time to live in minutes. */
const argsSchema = z.object({
  "--labels": z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .pipe(nodeLabelsSchema),
  "--ttl-minutes": z.coerce
    .number({ message: ttlMessage })
    .int({ message: ttlMessage })
    .min(1, { message: ttlMessage })
    .max(10_080, { message: ttlMessage })
    .optional(),
});

export async function run(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("node token", argv, {
    options: { labels: { type: "string" }, "ttl-minutes": { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(HELP.trimEnd());
  const [{ parseInput }, { mintJoinToken, joinCommandFor }, { ensureInstanceOwner }] = await Promise.all([
    import("@/lib/validation"),
    import("@/lib/nodes/join"),
    import("@/lib/users"),
  ]);
  const input = parseInput(argsSchema, { "--labels": values.labels, "--ttl-minutes": values["ttl-minutes"] });
  const minted = await withDb(async (db, config) => {
    const owner = await ensureInstanceOwner(db);
    const made = await mintJoinToken(db, {
      labels: input["--labels"],
      ttlMinutes: input["--ttl-minutes"],
      createdBy: owner.id,
    });
    return {
      ...made,
      joinCommand: joinCommandFor(config.publicUrl, made.token, made.labels),
      guessedUrl: !process.env.SAM_PUBLIC_URL?.trim(),
    };
  });
  if (minted.guessedUrl) {
    // Another machine rarely reaches this one at the address the server listens on by default.
    process.stderr.write(
      "sam: SAM_PUBLIC_URL is not set; the command uses this server's own address: use the one the machine reaches it at\n",
    );
  }
  if (json) {
    return printJson({
      token: minted.token,
      joinCommand: minted.joinCommand,
      expiresAt: minted.expiresAt,
      labels: minted.labels,
    });
  }
  printLines(
    "Run this on the machine to join (the token works once):",
    "",
    `  ${minted.joinCommand}`,
    "",
    `It expires at ${minted.expiresAt.toISOString()}.`,
  );
}
