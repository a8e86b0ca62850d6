import { SamError } from "@/lib/errors";
import { UsageError } from "./args";

interface Command {
  summary: string;
  // Loaded on demand: each command pulls in only the modules it needs, so `sam --help` stays fast.
  load: () => Promise<{ run: (argv: string[]) => Promise<void> }>;
}

const COMMANDS: Record<string, Command> = {
  "login-link": { summary: "print a sign-in link to the running server", load: () => import("./commands/login-link") },
  project: { summary: "add and list projects (sam project --help)", load: () => import("./commands/project") },
  secret: {
    summary: "store and list project secrets (sam secret --help)",
    load: () => import("./commands/secret"),
  },
  user: { summary: "add and list local users (sam user --help)", load: () => import("./commands/user") },
  task: { summary: "create, show and message tasks (sam task --help)", load: () => import("./commands/task") },
  pr: {
    summary: "list, show, merge, close and review pull requests (sam pr --help)",
    load: () => import("./commands/pr"),
  },
  token: { summary: "task and personal tokens (sam token --help)", load: () => import("./commands/token") },
  webhook: {
    summary: "add, list and remove project webhooks; deliveries and replays (sam webhook --help)",
    load: () => import("./commands/webhook"),
  },
  notifications: {
    summary: "list notifications and mark them read (sam notifications --help)",
    load: () => import("./commands/notifications"),
  },
  node: {
    summary: "join machines as nodes; list, drain and remove nodes (sam node --help)",
    load: () => import("./commands/node"),
  },
  cloud: {
    summary: "where SAM creates cloud VMs when no node has room (sam cloud --help)",
    load: () => import("./commands/cloud"),
  },
  daemon: {
    summary: "run an agent daemon on this machine, or join one to a web app (sam daemon --join)",
    load: () => import("./commands/daemon"),
  },
};

const HELP = `Usage: sam <command> [options]

The SAM command line. It uses the same data as the server: SAM_DATA_DIR (default ./data),
or DATABASE_URL (and DATABASE_AUTH_TOKEN) for a libSQL server.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(15)}${c.summary}`)
  .join("\n")}

Every command takes --json for machine-readable output and --help for its options.
Where a command takes an id (of a task, project, pull request or token), a unique prefix of
at least 8 characters will do, as the web app shows them; a prefix several ids share lists them.
Exit status: 0 on success, 1 when the command fails, 2 when the command line is wrong.
`;

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Prints an error the way scripts expect (one line on stderr) and returns the exit status. */
function report(err: unknown): number {
  if (err instanceof UsageError) {
    const help = err.command ? `sam ${err.command} --help` : "sam --help";
    process.stderr.write(`sam: ${oneLine(err.message)} (see \`${help}\`)\n`);
    return 2;
  }
  if (SamError.is(err)) {
    process.stderr.write(`sam: ${oneLine(err.message)}\n`);
    return 1;
  }
  // Not a failure SAM anticipated: the stack trace is what a bug report needs.
  process.stderr.write(`sam: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

/** Runs one `sam` invocation and returns its exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === "--help" || name === "-h") {
      process.stdout.write(HELP);
      return 0;
    }
    if (name === undefined) throw new UsageError("missing command", "");
    if (name.startsWith("-")) throw new UsageError(`unknown option ${name}; options go after the command`, "");
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`, "");
    await (await command.load()).run(rest);
    return 0;
  } catch (err) {
    return report(err);
  }
}
