import { afterEach, describe, expect, it } from "vitest";
import { newNodeToken, spawnDaemon } from "./daemon-process.ts";
import { startFakeWeb } from "./fake-web.ts";
import { makeTempDir } from "./temp-dir.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("a node the web app will not take back", () => {
  it("retires when the web app refuses its heartbeat (token revoked or node declared lost)", async () => {
    const dir = makeTempDir();
    cleanups.push(dir.cleanup);
    // The web app knows another token: to it, this node's token is revoked.
    const web = await startFakeWeb(newNodeToken());
    cleanups.push(web.close);
    const daemon = spawnDaemon({
      SAM_NODE_ID: "node-retire",
      SAM_NODE_TOKEN: newNodeToken(),
      SAM_DAEMON_DATA_DIR: dir.dir,
      SAM_WEB_URL: web.url,
      SAM_HEARTBEAT_MS: "200",
    });
    cleanups.push(() => daemon.child.kill("SIGKILL"));
    await daemon.url;
    const code = await Promise.race([daemon.exited, new Promise((r) => setTimeout(() => r("still running"), 10_000))]);
    expect(code).toBe(0);
    expect(daemon.stderr()).toContain("the web app refused this node (HTTP 401)");
  });
});
