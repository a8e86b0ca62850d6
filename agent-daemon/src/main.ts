import { daemonConfigSchema } from "./contract.ts";
import { startDaemonServer } from "./server.ts";

const parsed = daemonConfigSchema.safeParse({
  nodeId: process.env.SAM_NODE_ID,
  nodeToken: process.env.SAM_NODE_TOKEN,
  host: process.env.SAM_DAEMON_HOST || undefined,
  port: process.env.SAM_DAEMON_PORT || undefined,
  capacity: process.env.SAM_NODE_CAPACITY || undefined,
  dataDir: process.env.SAM_DAEMON_DATA_DIR,
  webUrl: process.env.SAM_WEB_URL || undefined,
  heartbeatMs: process.env.SAM_HEARTBEAT_MS || undefined,
});
if (!parsed.success) {
  for (const issue of parsed.error.issues) console.error(`sam-daemon: ${issue.path.join(".")}: ${issue.message}`);
  process.exit(2);
}
const daemon = await startDaemonServer(parsed.data);
// The supervisor reads this line to learn where the daemon listens.
console.log(`sam-daemon listening on ${daemon.url}`);
const stop = () => {
  void daemon.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
