/**
 * A parent waiting for its subtasks: the time from a child's end (its move to completed, written
 * when its session_finished is ingested) to its parent's wake turn starting (the `user_message`
 * the parent's daemon records as it hands the wake to the agent), on the real app with a local
 * daemon and the offline scripted model. Each child completes with a change, so the wake waits for
 * its pull request to be recorded as it does in use. `npx tsx bench/parent-wake.ts` runs it alone;
 * `measureParentWake` runs it in another bench.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, tasks, workspaces } from "@/db/schema";
import { ensureBuilt } from "../scripts/build-state";
import { openAppDb, ownerApi } from "../test/helpers/api";
import { startAppServer } from "../test/helpers/app-server";
import { makeGitRepo } from "../test/helpers/git";
import { makeTempDir } from "../test/helpers/temp-dir";
import { describe, fmt } from "./stats";

export interface ParentWake {
  /** Child's move to completed → parent's wake turn starts, one per child (ms). */
  samples: number[];
  median: number;
  p90: number;
}

function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

/** A child that waits for a flag file in its workspace (so the bench ends one child at a time), then changes a file. */
const gatedChild = (n: number) => ({
  tool: "dispatch_task",
  args: {
    title: `Child ${n}`,
    description: script(`Child ${n}`, [
      {
        tool: "shell",
        args: { command: "while [ ! -e go.flag ]; do sleep 0.02; done; rm go.flag", timeoutMs: 600_000 },
      },
      { tool: "write_file", args: { path: `child-${n}.txt`, content: `child ${n}\n` } },
    ]),
  },
});

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`bench:parent-wake: timed out waiting for ${what}`);
}

async function sessionEvents(db: Db, taskId: string, type: string) {
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
  if (!session) return [];
  return db
    .select({ payload: agentEvents.payload, at: agentEvents.createdAt })
    .from(agentEvents)
    .where(and(eq(agentEvents.sessionId, session.id), eq(agentEvents.type, type)))
    .orderBy(asc(agentEvents.seq));
}

/** Starts an app (scheduler on, a local daemon), runs one parent with `runs` children, ends them one by one. */
export async function measureParentWake({ runs = 10 }: { runs?: number } = {}): Promise<ParentWake> {
  const scratch = makeTempDir("sam-bench-wake-");
  const app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
  const db = openAppDb(app);
  try {
    const api = await ownerApi(app);
    const repo = makeGitRepo(path.join(scratch.dir, "repo"), { files: { "README.md": "# wake bench\n" } });
    const projectId = (await api.post<{ id: string }>("/api/projects", { repo })).body.id;
    await api.patch(`/api/projects/${projectId}`, { maxChildren: 20, maxActiveDispatched: 50 });
    const steps = [...Array.from({ length: runs }, (_, i) => gatedChild(i + 1)), { say: "Dispatched." }];
    const parent = (
      await api.post<{ id: string }>("/api/tasks", { projectId, mode: "task", prompt: script("Fan out.", steps) })
    ).body.id;
    const children = await until(
      "the children",
      () => db.query.tasks.findMany({ where: eq(tasks.parentId, parent), orderBy: asc(tasks.createdAt) }),
      (rows) => rows.length === runs,
    );
    await until(
      "the parent to wait",
      () => db.query.tasks.findFirst({ where: eq(tasks.id, parent), columns: { status: true } }),
      (t) => t?.status === "awaiting_subtasks",
    );

    const samples: number[] = [];
    for (const [i, child] of children.entries()) {
      const workspace = await until(
        `the workspace of child ${i + 1}`,
        () =>
          db.query.workspaces.findFirst({
            where: and(eq(workspaces.taskId, child.id), eq(workspaces.status, "ready")),
          }),
        (w) => Boolean(w?.path),
      );
      writeFileSync(path.join(workspace!.path, "go.flag"), "go\n");
      const wakes = await until(
        `wake ${i + 1} of the parent`,
        async () =>
          (await sessionEvents(db, parent, "user_message")).filter(
            (e) => (JSON.parse(e.payload) as { source?: string }).source === "system",
          ),
        (w) => w.length === i + 1,
      );
      const [ended] = await db.all<{ at: number }>(
        sql`SELECT created_at AS at FROM task_events WHERE task_id = ${child.id} AND to_status = 'completed'`,
      );
      samples.push(wakes[i]!.at.getTime() - Number(ended!.at));
      // The wake turn ends before the next child is let go: each wake is measured on an idle parent.
      await until(
        "the wake turn's end",
        () => sessionEvents(db, parent, "turn_ended"),
        (t) => t.length === i + 2,
      );
    }
    const { median, p90 } = describe(samples);
    return { samples, median, p90 };
  } finally {
    db.$client.close();
    await app.stop();
    scratch.cleanup();
  }
}

async function main() {
  await ensureBuilt();
  const result = await measureParentWake({ runs: Number(process.env.BENCH_RUNS ?? 10) });
  const s = describe(result.samples);
  console.log(
    "bench:parent-wake — a child's end (its move to completed) → its parent's wake turn starting: " +
      `median ${fmt(s.median)}, p90 ${fmt(s.p90)} (min ${fmt(s.min)}, max ${fmt(s.max)}, n=${s.n}) (goal < 300 ms)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
