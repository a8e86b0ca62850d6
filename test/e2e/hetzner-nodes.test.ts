import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { nodes } from "@/db/schema";
import { setupScriptOf } from "@/lib/nodes/cloud/cloud-init";
import { until } from "../../agent-daemon/test/fake-web";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { runSam } from "../helpers/cli";
import { freePort } from "../helpers/free-port";
import { makeGitRepo } from "../helpers/git";
import { startHetznerFixture } from "../helpers/hetzner-fixture";
import { killNodeProcesses, nodeRow } from "../helpers/joined-node";
import { createNetns, type Netns, netnsUnavailableReason } from "../helpers/netns";
import { makeTempDir } from "../helpers/temp-dir";

const unavailable = netnsUnavailableReason();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function vmNodes(app: AppServer) {
  const db = openAppDb(app);
  try {
    return await db.select().from(nodes).where(eq(nodes.provider, "hetzner"));
  } finally {
    db.$client.close();
  }
}

/**
 * Plays the new VM: runs the setup script from the user data SAM gave the server, for real, in the
 * namespace (which reaches only the web app), with its paths under a temp dir and no systemd.
 */
function bootVm(ns: Netns, userData: string): { child: ChildProcess; output: () => string; dir: string } {
  const temp = makeTempDir("sam-vm-");
  const script = path.join(temp.dir, "setup.sh");
  fs.writeFileSync(script, setupScriptOf(userData), { mode: 0o700 });
  const child = ns.spawn("sh", [script], {
    cwd: temp.dir,
    env: {
      NODE_ENV: "production",
      PATH: process.env.PATH,
      HOME: temp.dir,
      LANG: process.env.LANG,
      SAM_SETUP_FOREGROUND: "1",
      SAM_SETUP_ROOT: path.join(temp.dir, "opt"),
      SAM_SETUP_NODE_DIR: path.join(temp.dir, "node"),
      ...(process.env.SAM_SANDBOX ? { SAM_SANDBOX: process.env.SAM_SANDBOX } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  cleanups.push(async () => {
    child.kill("SIGKILL");
    await killNodeProcesses(temp.dir);
    temp.cleanup();
  });
  return { child, output: () => out, dir: temp.dir };
}

/** The command lines of this machine's processes that mention `text`. */
function commandLinesMentioning(text: string): string[] {
  const lines: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const line = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (line.includes(text)) lines.push(line);
    } catch {
      // Gone meanwhile.
    }
  }
  return lines;
}

const finishing = (label: string) =>
  scriptPrompt(`Write a file on the cloud VM (${label}).`, [
    { tool: "write_file", args: { path: `${label}.txt`, content: `made on a cloud VM: ${label}\n` } },
    { tool: "get_instructions", args: {} },
    { say: `done: ${label}` },
  ]);

describe.skipIf(unavailable)("cloud VMs on Hetzner (against a stand-in of its API)", () => {
  it("a VM is created when no node has room, joins by itself from its user data, runs the task, is reused while warm, deleted after its idle time; an API error backs off and is shown", async () => {
    const fixture = await startHetznerFixture();
    cleanups.push(() => fixture.stop());
    const ns = createNetns();
    cleanups.push(() => ns.destroy());
    const repos = makeTempDir("sam-hetzner-repos-");
    cleanups.push(repos.cleanup);
    const data = makeTempDir("sam-hetzner-app-");
    cleanups.push(data.cleanup);
    const port = await freePort();
    const webUrl = `http://${ns.hostIp}:${port}`;
    const app = await startAppServer({
      env: {
        HOST: ns.hostIp,
        SAM_LOCAL_NODES: "0",
        SAM_TICK_MS: "200",
        SAM_HEARTBEAT_MS: "300",
        SAM_PUBLIC_URL: webUrl,
        SAM_HETZNER_API_URL: fixture.url,
      },
      port,
      dataDir: data.dir,
    });
    cleanups.push(() => app.stop({ keepData: true }));
    const api: ApiClient = await ownerApi(app);
    const project = await api.post<{ id: string }>("/api/projects", { repo: makeGitRepo(path.join(repos.dir, "p")) });
    expect(project.status).toBe(201);
    const sam = (args: string[], input = "") => runSam(args, { SAM_DATA_DIR: app.dataDir }, undefined, input);

    // The instance's settings; the token goes in on standard input and never comes back out.
    const set = await sam(
      [
        "cloud",
        "set",
        "--token-stdin",
        "--server-type",
        "cx22",
        "--location",
        "fsn1",
        "--capacity",
        "2",
        "--max-vms",
        "1",
        "--json",
      ],
      fixture.token,
    );
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).not.toContain(fixture.token);
    expect(JSON.parse(set.stdout)).toMatchObject({ scope: "instance", tokenSet: true, warmMinutes: 30, maxVms: 1 });

    // No node at all: the queued task makes SAM create a VM.
    const first = await api.post<{ id: string }>("/api/tasks", {
      projectId: project.body.id,
      prompt: finishing("first"),
    });
    expect(first.status).toBe(201);
    await until(async () => (await vmNodes(app))[0]?.providerRef != null, 90_000);
    expect(fixture.servers.size).toBe(1);
    const [server] = [...fixture.servers.values()];
    const [vmNode] = await vmNodes(app);
    expect(vmNode).toMatchObject({ status: "provisioning", providerRef: String(server?.id), name: server?.name });

    // The bundle the web app serves is the one whose hash the VM's script holds.
    const bundle = await fetch(`${webUrl}/api/daemon/bundle`);
    const bytes = Buffer.from(await bundle.arrayBuffer());
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    expect(bundle.headers.get("x-sam-bundle-sha256")).toBe(sha256);
    expect(setupScriptOf(server?.userData ?? "")).toContain(`BUNDLE_SHA256='${sha256}'`);

    // The VM boots: its setup script fetches the daemon from the web app, checks it and joins.
    const vm = bootVm(ns, server?.userData ?? "");
    const done = await waitForTask(api, first.body.id, isTerminal, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\n--- the VM said:\n${vm.output()}`);
    });
    expect(done).toMatchObject({ status: "completed", nodeId: vmNode?.id });
    // The VM's daemon took the join token from a file, now deleted, never from its command line.
    const joinToken = /JOIN_TOKEN='([^']+)'/.exec(setupScriptOf(server?.userData ?? ""))?.[1] ?? "";
    expect(joinToken).toMatch(/^samj_/);
    expect(fs.existsSync(path.join(vm.dir, "node", "node.json"))).toBe(true);
    expect(fs.existsSync(path.join(vm.dir, "node", "join-token"))).toBe(false);
    const vmCommandLines = commandLinesMentioning(vm.dir);
    expect(vmCommandLines.some((line) => line.includes("--token-file"))).toBe(true);
    expect(vmCommandLines.filter((line) => line.includes(joinToken))).toEqual([]);
    expect(await nodeRow(app, vmNode?.id ?? "")).toMatchObject({
      provider: "hetzner",
      webUrl,
      pricePerHour: 0.006,
      currency: "EUR",
    });

    // Idle, it stays warm; the next task goes to it and no second VM is created.
    await until(async () => (await nodeRow(app, vmNode?.id ?? ""))?.status === "warm", 30_000);
    const second = await api.post<{ id: string }>("/api/tasks", {
      projectId: project.body.id,
      prompt: finishing("second"),
    });
    expect(await waitForTask(api, second.body.id, isTerminal, 120_000)).toMatchObject({
      status: "completed",
      nodeId: vmNode?.id,
    });
    expect(fixture.requests.filter((r) => r.method === "POST" && r.path === "/servers")).toHaveLength(1);

    // The idle time made short: the VM is deleted and its node destroyed.
    expect((await sam(["cloud", "set", "--warm-minutes", "0"])).code).toBe(0);
    await until(
      () => fixture.requests.some((r) => r.method === "DELETE" && r.path === `/servers/${server?.id}`),
      30_000,
    );
    expect(fixture.servers.size).toBe(0);
    await until(async () => (await nodeRow(app, vmNode?.id ?? ""))?.providerRef === null, 10_000);
    const gone = await nodeRow(app, vmNode?.id ?? "");
    expect(gone).toMatchObject({ status: "destroyed", providerRef: null });
    expect(gone?.destroyedAt).toBeInstanceOf(Date);
    vm.child.kill("SIGKILL");
    await killNodeProcesses(vm.dir);

    // The next VM runs into the project's quota: SAM backs off and says so.
    fixture.failNext("POST /servers", {
      status: 403,
      code: "resource_limit_exceeded",
      message: "server limit reached",
    });
    const third = await api.post<{ id: string }>("/api/tasks", {
      projectId: project.body.id,
      prompt: finishing("third"),
    });
    expect(third.status).toBe(201);
    type Health = { cloudSettings: { failures: number; lastError: string | null; backoffUntil: string | null }[] };
    let health: Health | undefined;
    await until(async () => {
      health = (await api.get<Health>("/api/nodes")).body;
      return (health.cloudSettings[0]?.failures ?? 0) >= 1;
    }, 30_000);
    expect(health?.cloudSettings[0]?.lastError).toMatch(/quota is used up.*server limit reached/);
    const shown = JSON.parse((await sam(["cloud", "show", "--json"])).stdout) as {
      failures: number;
      backoffUntil: string;
      lastError: string;
    };
    expect(shown.failures).toBe(1);
    expect(new Date(shown.backoffUntil).getTime()).toBeGreaterThan(Date.now());
    // Backing off for 30 s at least: the task waits for a node.
    expect(new Date(shown.backoffUntil).getTime()).toBeGreaterThan(Date.now() + 20_000);
    expect((await api.get<{ status: string }>(`/api/tasks/${third.body.id}`)).body.status).toBe("queued");

    expect(fixture.violations).toEqual([]);
  });
});
