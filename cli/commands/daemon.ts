import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { printLines } from "../output";

const HELP = `Usage: sam daemon --join <url> --token <token> [--dir D] [--name N] [--capacity N] [--labels a,b]
       sam daemon --dir D
       sam daemon [daemon options]

Joins this machine to a SAM web app as a node and runs it. The token comes from \`sam node token\`
(it works once); the node's credential is then kept in D/node.json (mode 0600, default D:
~/.sam-node), so a restart with the same --dir needs no token. The web app never calls the node:
the node holds a command channel open to it (NAT and serverless hosts work). Needs Node.js 20 or
later, git and bubblewrap (SAM_SANDBOX=off runs agents unconfined where bubblewrap cannot run).

  --join <url>      the web app's URL, as this machine reaches it
  --token <token>   the one-use join token
  --dir <dir>       the node's credential, workspaces and outbox
  --name <name>     its name on the Nodes page
  --capacity <n>    tasks it runs at once, 1-64 (default 4)
  --labels a,b      labels it asks for, besides the token's

Without --join or --dir it runs the daemon the web app starts for local nodes, with the daemon's
own options and environment variables: --node-id/SAM_NODE_ID, --token/SAM_NODE_TOKEN,
--data-dir/SAM_DAEMON_DATA_DIR, --web-url/SAM_WEB_URL, --port/SAM_DAEMON_PORT, --host,
--capacity/SAM_NODE_CAPACITY, --heartbeat-ms/SAM_HEARTBEAT_MS.
`;

const daemonBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../agent-daemon/bin/sam-daemon.mjs");

/** Runs the daemon package's own entry point, so `sam daemon` and a bare daemon install behave alike. */
export async function run(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) return printLines(HELP.trimEnd());
  const child = spawn(process.execPath, [daemonBin, ...argv], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => child.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
  // The daemon's exit status is the command's, whatever `sam` would otherwise report.
  process.exit(code);
}
