import fs from "node:fs";
import path from "node:path";
import { readConfig, USAGE } from "./config.ts";
import { startDaemon } from "./daemon.ts";
import { isJoinCommand, JOIN_USAGE, joinedNodeConfig, retireNodeFile } from "./join.ts";
import { log } from "./log.ts";

const args = process.argv.slice(2);
// A joined node (`--join`, `--dir`) takes its own flags; a daemon a web app starts takes the others.
const joining = isJoinCommand(args);
if (args.includes("--help") || args.includes("-h")) {
  console.log(joining ? JOIN_USAGE : `${USAGE}\n\nor, to join a machine as a node:\n${JOIN_USAGE}`);
  process.exit(0);
}
const result = joining
  ? await joinedNodeConfig(args, process.env).then((r) => (r.ok ? { ok: true as const, ...r.value } : r))
  : { ...readConfig(args, process.env), nodeFile: undefined };
if (!result.ok) {
  for (const error of result.errors) console.error(`sam-daemon: ${error}`);
  // A join that failed (refused, unreachable) is not a wrong command line.
  if (joining && !("usage" in result && result.usage)) process.exit(1);
  console.error(joining ? JOIN_USAGE : USAGE);
  process.exit(2);
}
const { config, nodeFile } = result;
const joined = nodeFile
  ? {
      onRevoked: (reason: string) => {
        log(`${reason}: this node was removed or declared lost; join again with a new token`);
        retireNodeFile(nodeFile);
        stop("retiring");
      },
    }
  : undefined;
// A supervisor that started the daemon detached (so it outlives a web app restart) finds it here.
// A file left by a killed predecessor is removed first, so whoever waits for it reads this daemon's.
const infoFile = path.join(config.dataDir, "daemon.json");
fs.rmSync(infoFile, { force: true });
const daemon = await startDaemon(config, { onRetire: (reason) => stop(`retiring: ${reason}`), joined }).catch(
  (err: unknown) => {
    // A port in use, an unwritable data dir: say what, without a stack trace.
    console.error(`sam-daemon: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

// Handlers first: a supervisor may send SIGTERM the moment it reads the line below.
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: shutting down`);
  void daemon.close().then(() => {
    // Only our own record: a successor on the same data dir may already have written its own.
    try {
      const info = JSON.parse(fs.readFileSync(infoFile, "utf8")) as { pid?: number };
      if (info.pid === process.pid) fs.rmSync(infoFile);
    } catch {
      // Already gone or replaced: nothing of ours to remove.
    }
    process.exit(0);
  });
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));

// Written aside and renamed, so a reader never sees half a file.
const temp = `${infoFile}.${process.pid}.tmp`;
fs.writeFileSync(temp, `${JSON.stringify({ pid: process.pid, url: daemon.url, nodeId: config.nodeId })}\n`);
fs.renameSync(temp, infoFile);
// The one line on stdout: a supervisor that reads the daemon's output learns the URL from it.
console.log(`sam-daemon listening on ${daemon.url}`);
