/**
 * A cloud VM's way to its first task, on the real app with the offline scripted model, against the
 * Hetzner stand-in; a network namespace plays the VM and runs the user data's setup script (a real
 * VM's boot and Node.js install are not in these figures):
 * - the daemon bundle: cold build and a cached request, and its size;
 * - per run: task creation → the VM requested from the API; setup script start → node joined
 *   (download, hash check, unpack, join); joined → the task's first agent event; script start →
 *   task completed.
 * Each run's VM is deleted before the next (warm time 0), so every run creates one.
 * `npm run bench:cloud` (root, iproute2). BENCH_RUNS sets the number of runs (default 3).
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { and, eq } from "drizzle-orm";
import { agentEvents, chatSessions, nodes, tasks } from "@/db/schema";
import { setupScriptOf } from "@/lib/nodes/cloud/cloud-init";
import { ensureBuilt } from "../scripts/build-state";
import { openAppDb, ownerApi, scriptPrompt } from "../test/helpers/api";
import { startAppServer } from "../test/helpers/app-server";
import { runSam } from "../test/helpers/cli";
import { freePort } from "../test/helpers/free-port";
import { makeGitRepo } from "../test/helpers/git";
import { startHetznerFixture } from "../test/helpers/hetzner-fixture";
import { killNodeProcesses } from "../test/helpers/joined-node";
import { createNetns, netnsUnavailableReason } from "../test/helpers/netns";
import { makeTempDir } from "../test/helpers/temp-dir";
import { describe, fmt } from "./stats";

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`bench:cloud: timed out waiting for ${what}`);
}

function line(what: string, samples: number[]): string {
  const s = describe(samples);
  return `${what}: p50 ${fmt(s.median)} (min ${fmt(s.min)}, max ${fmt(s.max)}, n=${s.n})`;
}

async function main() {
  const unavailable = netnsUnavailableReason();
  if (unavailable) throw new Error(`bench:cloud needs network namespaces: ${unavailable}`);
  await ensureBuilt();
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const fixture = await startHetznerFixture();
  const ns = createNetns();
  const repos = makeTempDir("sam-bench-cloud-repos-");
  const port = await freePort();
  const webUrl = `http://${ns.hostIp}:${port}`;
  const app = await startAppServer({
    port,
    env: {
      HOST: ns.hostIp,
      SAM_LOCAL_NODES: "0",
      SAM_TICK_MS: "200",
      SAM_HEARTBEAT_MS: "300",
      SAM_PUBLIC_URL: webUrl,
      SAM_HETZNER_API_URL: fixture.url,
    },
  });
  const db = openAppDb(app);
  const vms: { kill: () => Promise<void> }[] = [];
  try {
    let started = Date.now();
    let res = await fetch(`${webUrl}/api/daemon/bundle`);
    const bytes = (await res.arrayBuffer()).byteLength;
    const cold = Date.now() - started;
    started = Date.now();
    res = await fetch(`${webUrl}/api/daemon/bundle`);
    await res.arrayBuffer();
    const cached = Date.now() - started;

    const api = await ownerApi(app);
    const project = await api.post<{ id: string }>("/api/projects", { repo: makeGitRepo(path.join(repos.dir, "p")) });
    const set = await runSam(
      ["cloud", "set", "--token-stdin", "--server-type", "cx22", "--location", "fsn1", "--warm-minutes", "0"],
      { SAM_DATA_DIR: app.dataDir },
      undefined,
      fixture.token,
    );
    if (set.code !== 0) throw new Error(set.stderr);

    const requested: number[] = [];
    const joined: number[] = [];
    const firstEvent: number[] = [];
    const scriptToDone: number[] = [];
    for (let run = 0; run < runs; run++) {
      const before = fixture.servers.size + fixture.requests.filter((r) => r.method === "POST").length;
      const t0 = Date.now();
      const task = await api.post<{ id: string }>("/api/tasks", {
        projectId: project.body.id,
        prompt: scriptPrompt(`Run ${run}.`, [{ say: `run ${run}` }]),
      });
      await until(
        "the VM request",
        async () => fixture.servers.size + fixture.requests.filter((r) => r.method === "POST").length,
        (n) => n >= before + 2,
      );
      requested.push(Date.now() - t0);
      const node = await until(
        "the VM's node row",
        () => db.query.nodes.findFirst({ where: and(eq(nodes.provider, "hetzner"), eq(nodes.status, "provisioning")) }),
        (n) => n?.providerRef != null,
      );
      const server = fixture.servers.get(Number(node?.providerRef));
      const temp = makeTempDir("sam-bench-vm-");
      const script = path.join(temp.dir, "setup.sh");
      fs.writeFileSync(script, setupScriptOf(server?.userData ?? ""), { mode: 0o700 });
      const t1 = Date.now();
      const child = ns.spawn("sh", [script], {
        env: {
          NODE_ENV: "production",
          PATH: process.env.PATH,
          HOME: temp.dir,
          SAM_SETUP_FOREGROUND: "1",
          SAM_SETUP_ROOT: path.join(temp.dir, "opt"),
          SAM_SETUP_NODE_DIR: path.join(temp.dir, "node"),
          ...(process.env.SAM_SANDBOX ? { SAM_SANDBOX: process.env.SAM_SANDBOX } : {}),
        },
        stdio: "ignore",
      });
      const vm = {
        kill: async () => {
          child.kill("SIGKILL");
          await killNodeProcesses(temp.dir);
          temp.cleanup();
        },
      };
      vms.push(vm);
      await until(
        "the join",
        () => db.query.nodes.findFirst({ where: eq(nodes.id, node?.id ?? "") }),
        (n) => n?.status === "ready" || n?.status === "warm",
      );
      joined.push(Date.now() - t1);
      const t2 = Date.now();
      await until(
        "the first event",
        async () => {
          const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.body.id) });
          return session ? db.query.agentEvents.findFirst({ where: eq(agentEvents.sessionId, session.id) }) : undefined;
        },
        (e) => e !== undefined,
      );
      firstEvent.push(Date.now() - t2);
      await until(
        "the task's end",
        () => db.query.tasks.findFirst({ where: eq(tasks.id, task.body.id) }),
        (t) => t?.status === "completed" || t?.status === "failed",
      );
      scriptToDone.push(Date.now() - t1);
      // Warm time 0: the VM goes; the next run needs a new one.
      await until(
        "the VM's deletion",
        async () => fixture.servers.size,
        (n) => n === 0,
      );
      await vm.kill();
    }
    console.log(
      [
        "bench:cloud — a Hetzner VM (stand-in API; a network namespace runs its setup script) to its first task",
        `  daemon bundle: ${(bytes / 1024 / 1024).toFixed(1)} MiB; first request (build) ${fmt(cold)}, cached ${fmt(cached)}`,
        line("  task creation → VM requested from the API", requested),
        line("  setup script start → node joined (download, hash check, unpack, join)", joined),
        line("  node joined → the task's first agent event", firstEvent),
        line("  setup script start → task completed", scriptToDone),
      ].join("\n"),
    );
  } finally {
    for (const vm of vms) await vm.kill();
    db.$client.close();
    await app.stop();
    ns.destroy();
    await fixture.stop();
    repos.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
