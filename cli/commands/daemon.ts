import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { printLines } from "../output";

const HELP = `Usage: sam daemon [options]

Runs an agent daemon on this machine (the process the web app starts for local nodes). Options
and environment variables are the daemon's own: --node-id/SAM_NODE_ID, --token/SAM_NODE_TOKEN,
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
