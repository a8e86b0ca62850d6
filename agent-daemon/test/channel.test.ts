import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ChannelLine,
  channelRequestSchema,
  commandResultSchema,
  DAEMON_ROUTES,
  WEB_ROUTES,
} from "../src/contract.ts";
import { spawnDaemon } from "./daemon-process.ts";
import { until } from "./fake-web.ts";
import { makeRepo } from "./git-repo.ts";
import { makeTempDir } from "./temp-dir.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Answer {
  id: string;
  status: number;
  body: unknown;
}

/**
 * The web app's side of a joined node's channel, as small as the test needs: each connection gets
 * the lines `script(n)` gives for it (n from 1), then ends or stays open; results are recorded.
 */
async function startChannelWeb(
  credential: string,
  script: (connection: number) => { lines: ChannelLine[]; end: boolean; status?: number },
) {
  let connections = 0;
  const answers: Answer[] = [];
  const open = new Set<http.ServerResponse>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString() || "null") as unknown;
    if (req.headers.authorization !== `Bearer ${credential}`) {
      res.writeHead(401).end();
      return;
    }
    const result = /^\/api\/daemon\/commands\/([^/]+)\/result$/.exec(req.url ?? "");
    if (req.url === WEB_ROUTES.channel) {
      channelRequestSchema.parse(body);
      connections += 1;
      const { lines, end, status } = script(connections);
      if (status) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      for (const line of lines) res.write(`${JSON.stringify(line)}\n`);
      if (end) res.end();
      else {
        open.add(res);
        res.once("close", () => open.delete(res));
      }
      return;
    }
    if (result?.[1]) {
      const parsed = commandResultSchema.parse(body);
      answers.push({ id: decodeURIComponent(result[1]), status: parsed.status, body: parsed.body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, stored: 0 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(close);
  /** Writes a line to every open connection. */
  const send = (line: ChannelLine) => {
    for (const res of open) res.write(`${JSON.stringify(line)}\n`);
  };
  return { url, answers, connections: () => connections, open: () => open.size, send, close };
}

/** A node that joined before: its directory holds node.json, so it runs without a token. */
function nodeDir(webUrl: string, credential: string) {
  const temp = makeTempDir("sam-channel-");
  cleanups.push(temp.cleanup);
  const dir = path.join(temp.dir, "node");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(
    path.join(dir, "node.json"),
    JSON.stringify({ nodeId: "node-channel-test", credential, webUrl, capacity: 2, heartbeatMs: 200 }),
    { mode: 0o600 },
  );
  return { dir, repo: makeRepo(path.join(temp.dir, "repo")) };
}

function runNode(dir: string) {
  const daemon = spawnDaemon({ SAM_SANDBOX: "off" }, ["--dir", dir]);
  cleanups.push(async () => {
    await daemon.stop();
  });
  return daemon;
}

const credential = "c".repeat(43);

describe("a joined node's command channel", () => {
  it("runs a command id once even when it is delivered again, on a new connection and after a restart of the node", async () => {
    let command: ChannelLine | undefined;
    // The first two connections drop right after sending it, before any answer; later ones stay open.
    const web = await startChannelWeb(credential, (n) => ({ lines: command && n <= 2 ? [command] : [], end: n <= 2 }));
    const { dir, repo } = nodeDir(web.url, credential);
    command = {
      type: "command",
      id: "cmd-create-workspace",
      method: "POST",
      route: DAEMON_ROUTES.workspaces,
      body: { workspaceId: "ws-once", taskId: "task-once", repo, baseBranch: "main", branch: "sam/once-1" },
    };
    let daemon = runNode(dir);
    await daemon.url;
    await until(() => web.answers.length >= 1 && web.open() === 1, 30_000);
    // Sent again after it was answered: answered from the command log.
    web.send(command);
    await until(() => web.answers.length >= 2, 30_000);

    // A restart: the command log is on disk, the command is answered from it.
    await daemon.stop();
    const before = web.answers.length;
    await until(() => web.open() === 0, 10_000);
    daemon = runNode(dir);
    await daemon.url;
    await until(() => web.open() === 1, 30_000);
    web.send(command);
    await until(() => web.answers.length > before, 30_000);

    expect(web.answers.every((a) => a.id === "cmd-create-workspace")).toBe(true);
    // 201: created. A second run would have found the workspace and answered 200.
    expect(web.answers.map((a) => a.status)).toEqual(web.answers.map(() => 201));
    expect(new Set(web.answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
  });

  it("a 401 on the channel retires the node and sets its node.json aside, so a new token can join the directory", async () => {
    const web = await startChannelWeb(credential, () => ({ lines: [], end: true, status: 401 }));
    const { dir } = nodeDir(web.url, credential);
    const daemon = runNode(dir);
    expect(await daemon.exited).toBe(0);
    expect(daemon.stderr()).toMatch(/refused this node's credential/);
    expect(fs.existsSync(path.join(dir, "node.json"))).toBe(false);
    expect(fs.readdirSync(dir).some((f) => f.startsWith("node.json.revoked-"))).toBe(true);
  });

  it("reconnects at once when the web app ends the channel, and within 2 s after errors", async () => {
    const web = await startChannelWeb(credential, (n) =>
      n % 2 === 0 ? { lines: [], end: true, status: 503 } : { lines: [{ type: "ping" }], end: true },
    );
    const { dir } = nodeDir(web.url, credential);
    const daemon = runNode(dir);
    await daemon.url;
    await until(() => web.connections() >= 6, 15_000);
    expect(daemon.stderr()).toMatch(/command channel failed \(HTTP 503\)/);
  });
});
