import { writeFileSync } from "node:fs";
import path from "node:path";
import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, inboxMessages, pullRequests, tasks, workspaces } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { type ApiClient, openAppDb, ownerApi, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { callTool } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";
import { AppShell } from "../pages/app-shell";
import { SessionHeader } from "../pages/session-header";

/** A prompt whose sam-script the scripted model plays (backticks escaped, so a parent carries its children's). */
function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

/**
 * A child that waits for the test's word (a `go.flag` file the test writes into its workspace), then
 * changes a file and completes: the test decides when each child ends.
 */
const gatedChild = (title: string, dependsOn: string[] = []) => ({
  tool: "dispatch_task",
  args: {
    title,
    description: script(title, [
      {
        tool: "shell",
        args: { command: "while [ ! -e go.flag ]; do sleep 0.05; done; rm go.flag", timeoutMs: 300_000 },
      },
      { tool: "write_file", args: { path: `${title.replaceAll(" ", "-")}.txt`, content: `${title}\n` } },
      { tool: "complete_task", args: { summary: `Did ${title}` } },
    ]),
    ...(dependsOn.length > 0 ? { dependsOn } : {}),
  },
});

describe("parents wait for their children: awaiting_subtasks, one wake per child, wait_for_subtasks, complete_task", () => {
  let app: AppServer;
  let api: ApiClient;
  let db: Db;
  let projectId: string;
  let browser: Browser;
  let owner: BrowserSession;
  const repos = makeTempDir("sam-parent-waits-");

  beforeAll(async () => {
    // One node of two places: a waiting parent and two running children fit only if waiting takes none.
    app = await startAppServer({
      env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500", SAM_NODE_CAPACITY: "2", SAM_LOCAL_MAX_NODES: "1" },
    });
    api = await ownerApi(app);
    db = openAppDb(app);
    const repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# parents\n" } });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
    expect((await api.patch(`/api/projects/${projectId}`, { stopGraceSeconds: 1, maxChildren: 10 })).status).toBe(200);
    browser = await launchBrowser();
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
  });
  afterAll(async () => {
    await owner?.context.close();
    await browser?.close();
    db?.$client.close();
    await app?.stop();
    repos.cleanup();
  });

  /** Polls until `read` gives a value `done` accepts (each state is a database row the app wrote). */
  async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    while (Date.now() < deadline) {
      last = await read();
      if (done(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${what}: last seen ${JSON.stringify(last)}`);
  }

  const statusOf = async (taskId: string) =>
    (await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { status: true } }))?.status;
  const waitStatus = (taskId: string, status: string) =>
    until(
      `task ${taskId} ${status}`,
      () => statusOf(taskId),
      (s) => s === status,
    );

  async function startParent(prompt: string, children: number): Promise<{ parent: string; ids: string[] }> {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode: "task" });
    expect(created.status).toBe(201);
    const rows = await until(
      "the parent dispatched its children",
      () => db.query.tasks.findMany({ where: eq(tasks.parentId, created.body.id), orderBy: asc(tasks.createdAt) }),
      (r) => r.length === children,
    );
    return { parent: created.body.id, ids: rows.map((r) => r.id) };
  }

  /** The parent's session events of one type, in order. */
  async function events(taskId: string, type: string) {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    if (!session) return [];
    const rows = await db.query.agentEvents.findMany({
      where: and(eq(agentEvents.sessionId, session.id), eq(agentEvents.type, type)),
      orderBy: asc(agentEvents.seq),
    });
    return rows.map((r) => JSON.parse(r.payload) as Record<string, unknown>);
  }
  /** The turns SAM started in the parent's session by telling it something (its wakes). */
  const wakes = async (taskId: string) =>
    (await events(taskId, "user_message")).filter((e) => e.source === "system").map((e) => String(e.text));

  /** Lets a gated child go on: writes the flag it waits for into its workspace. */
  async function release(childId: string): Promise<void> {
    const workspace = await until(
      `the workspace of ${childId}`,
      () =>
        db.query.workspaces.findFirst({ where: and(eq(workspaces.taskId, childId), eq(workspaces.status, "ready")) }),
      (w) => Boolean(w?.path),
    );
    writeFileSync(path.join(workspace!.path, "go.flag"), "go\n");
  }

  /** Releases a child and waits for its end to be told: it completed and its PR is recorded. */
  async function finishChild(childId: string): Promise<number> {
    await release(childId);
    await waitStatus(childId, "completed");
    const pr = await until(
      `the PR of ${childId}`,
      () => db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, childId) }),
      (p) => Boolean(p),
    );
    return pr!.number;
  }

  /** The parent has taken its `n`th wake and that turn ended: it waits again. */
  async function wokenAndWaitingAgain(parent: string, n: number): Promise<string[]> {
    const told = await until(
      `wake ${n} of the parent`,
      () => wakes(parent),
      (w) => w.length >= n,
    );
    await until(
      "the wake turn's end",
      () => events(parent, "turn_ended"),
      (t) => t.length >= n + 1,
    );
    // The turn's end is stored before the web app decides what follows it.
    await waitStatus(parent, "awaiting_subtasks");
    return told;
  }

  it("a parent whose turn ends with three active children waits for them, is woken once per child with its outcome, and completes after the last", async () => {
    const { parent, ids } = await startParent(
      script("Split the work in three.", [
        gatedChild("Part A"),
        gatedChild("Part B"),
        gatedChild("Part C", ["{{1.taskId}}"]),
        { say: "Dispatched three parts." },
      ]),
      3,
    );
    const [a, b, c] = ids as [string, string, string];
    await waitStatus(parent, "awaiting_subtasks");
    expect(await wakes(parent)).toEqual([]);
    // A waiting parent holds no place on its node (of two places): both its children run beside it.
    await waitStatus(a, "running");
    await waitStatus(b, "running");
    const onNodes = await db.query.tasks.findMany({ columns: { nodeId: true }, where: eq(tasks.rootId, parent) });
    expect(new Set(onNodes.filter((t) => t.nodeId).map((t) => t.nodeId)).size).toBe(1);

    // Everywhere it is shown, it waits on its three active children.
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, parent) });
    await owner.page.goto(`${app.baseUrl}/projects/${projectId}/sessions/${session!.id}`);
    const header = new SessionHeader(owner.page);
    const shell = new AppShell(owner.page);
    await header.waitingOn.getByText("Waiting on 3 subtasks", { exact: true }).waitFor();
    await shell.taskGroupWaitingOn(parent).getByText("Waiting on 3 subtasks", { exact: true }).waitFor();
    expect((await api.get<{ waitingOn: number }>(`/api/tasks/${parent}`)).body.waitingOn).toBe(3);
    const cliEnv = { SAM_DATA_DIR: app.dataDir };
    const shownJson = await runSam(["task", "show", parent, "--json"], cliEnv);
    expect(shownJson.code).toBe(0);
    expect(JSON.parse(shownJson.stdout)).toMatchObject({ status: "awaiting_subtasks", waitingOn: 3 });
    const shown = await runSam(["task", "show", parent], cliEnv);
    expect(shown.stdout).toContain("status:  awaiting_subtasks — Waiting on 3 subtasks");

    const prA = await finishChild(a);
    let told = await wokenAndWaitingAgain(parent, 1);
    expect(await statusOf(parent)).toBe("awaiting_subtasks");
    // The open page follows: one fewer.
    await header.waitingOn.getByText("Waiting on 2 subtasks", { exact: true }).waitFor();
    await shell.taskGroupWaitingOn(parent).getByText("Waiting on 2 subtasks", { exact: true }).waitFor();
    expect(told[0]).toContain(`Subtask "Part A" (${a}) ended: completed`);
    expect(told[0]).toContain("Summary: Did Part A");
    expect(told[0]).toMatch(/Branch: sam\/part-a-/);
    expect(told[0]).toContain(`Pull request: #${prA} (/projects/${projectId}/pulls/${prA})`);

    // C depended on A: it starts now.
    await finishChild(c);
    told = await wokenAndWaitingAgain(parent, 2);
    expect(await statusOf(parent)).toBe("awaiting_subtasks");
    expect(told[1]).toContain(`Subtask "Part C" (${c}) ended: completed`);

    await finishChild(b);
    await waitStatus(parent, "completed");
    await header.waitingOn.waitFor({ state: "detached" });
    told = await wakes(parent);
    expect(told).toHaveLength(3);
    expect(told[2]).toContain(`Subtask "Part B" (${b}) ended: completed`);
    // Every status it went through: it completed once, at the end, never while a child was active.
    // (A wake turn too short to be seen between two batches of events leaves it awaiting_subtasks.)
    const moves = await db.all<{ to: string }>(
      sql`SELECT to_status AS "to" FROM task_events WHERE task_id = ${parent} ORDER BY id`,
    );
    expect(moves.map((m) => m.to).slice(0, 4)).toEqual(["queued", "provisioning", "running", "awaiting_subtasks"]);
    expect(moves.map((m) => m.to).filter((to) => !["running", "awaiting_subtasks"].includes(to))).toEqual([
      "queued",
      "provisioning",
      "completed",
    ]);
    expect(moves.at(-1)?.to).toBe("completed");
  });

  it("complete_task is refused while a child is active, naming it; with abandon the child is stopped and the parent completes unwoken", async () => {
    const { parent, ids } = await startParent(
      script("Start something, then give up on it.", [
        gatedChild("Long job"),
        { tool: "complete_task", args: { summary: "Done early" } },
        { tool: "complete_task", args: { summary: "Done without the long job", abandon: true } },
        { say: "Completed." },
      ]),
      1,
    );
    const child = ids[0]!;
    await waitStatus(parent, "completed");
    const results = (await events(parent, "tool_result")).filter((e) => e.name === "complete_task");
    expect(results.map((r) => r.status)).toEqual(["failed", "completed"]);
    const refusal = JSON.stringify(results[0]!.output);
    expect(refusal).toContain("Subtasks are still active");
    expect(refusal).toContain(`\\"Long job\\" (${child}, `);
    expect(refusal).toContain("abandon: true");
    const parentRow = await db.query.tasks.findFirst({ where: eq(tasks.id, parent) });
    expect(parentRow).toMatchObject({ summary: "Done without the long job", completeRequestedAt: expect.any(Date) });

    const stopped = await waitForTask(api, child, (t) => t.status === "failed", 60_000);
    expect(stopped.failureReason).toBe(
      "stopped by parent: its parent completed without it (complete_task with abandon)",
    );
    // The abandoned child's end never woke the completed parent.
    expect(await wakes(parent)).toEqual([]);
  });

  it("wait_for_subtasks wakes the parent once, with every child's outcome, when all have ended", async () => {
    const { parent, ids } = await startParent(
      script("Two parts, one report.", [
        gatedChild("Left half"),
        gatedChild("Right half"),
        { tool: "wait_for_subtasks", args: {} },
        { say: "Waiting for both." },
      ]),
      2,
    );
    const [left, right] = ids as [string, string];
    await waitStatus(parent, "awaiting_subtasks");
    const waitAnswer = (await events(parent, "tool_result")).find((e) => e.name === "wait_for_subtasks");
    expect(JSON.stringify(waitAnswer?.output)).toContain("End your turn now");

    const prLeft = await finishChild(left);
    // Its end is held for the wait: the row stays undelivered while the other child runs.
    const held = await db.query.inboxMessages.findFirst({
      where: and(eq(inboxMessages.taskId, parent), eq(inboxMessages.senderTaskId, left)),
    });
    expect(held?.deliveredAt).toBeNull();
    expect(await statusOf(parent)).toBe("awaiting_subtasks");

    const prRight = await finishChild(right);
    await waitStatus(parent, "completed");
    const told = await wakes(parent);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain("Your wait for subtasks is over: the subtasks you waited for have ended.");
    expect(told[0]).toContain(`- "Left half" (${left}): completed. Summary: Did Left half`);
    expect(told[0]).toContain(`Pull request: #${prLeft}`);
    expect(told[0]).toContain(`- "Right half" (${right}): completed.`);
    expect(told[0]).toContain(`Pull request: #${prRight}`);
    // Both children's own end messages were folded into the one wake.
    const rows = await db.query.inboxMessages.findMany({
      where: and(eq(inboxMessages.taskId, parent), isNotNull(inboxMessages.senderTaskId)),
    });
    expect(rows.map((r) => r.deliveredAt !== null)).toEqual([true, true]);
  });

  it("wait_for_subtasks with a timeout wakes the parent once when it passes, listing the children still running", async () => {
    const { parent, ids } = await startParent(
      script("One part, with a deadline.", [
        gatedChild("Slow part"),
        { tool: "wait_for_subtasks", args: { timeoutSeconds: 1 } },
        { say: "Waiting a second." },
      ]),
      1,
    );
    const child = ids[0]!;
    const told = await wokenAndWaitingAgain(parent, 1);
    expect(told[0]).toContain("the timeout of your wait passed; some subtasks are still running");
    expect(told[0]).toMatch(new RegExp(`- "Slow part" \\(${child}\\): still (running|queued)`));
    expect(await statusOf(parent)).toBe("awaiting_subtasks");

    // The wait is over: the child's end wakes the parent on its own, and the parent completes.
    await finishChild(child);
    await waitStatus(parent, "completed");
    expect(await wakes(parent)).toHaveLength(2);
  });

  it("wait_for_subtasks refuses, naming it, a task that is not the caller's subtask, and a timeout out of range", async () => {
    const { parent, ids } = await startParent(
      script("One part, then questions.", [gatedChild("Own part"), { say: "Waiting." }]),
      1,
    );
    const own = ids[0]!;
    await waitStatus(parent, "awaiting_subtasks");
    const token = await mintTaskToken(db, parent);
    const stranger = await callTool(app.baseUrl, token, "wait_for_subtasks", {
      taskIds: [own, parent, "no-such-task"],
    });
    expect(stranger.error?.message).toContain(`Not subtasks of yours: ${parent}, no-such-task`);
    const tooLong = await callTool(app.baseUrl, token, "wait_for_subtasks", { timeoutSeconds: 86_401 });
    expect(tooLong.error?.message).toMatch(/1 to 86400 seconds/);
    const unknownUntil = await callTool(app.baseUrl, token, "wait_for_subtasks", { until: "some" });
    expect(unknownUntil.error?.message).toMatch(/until is "all" or "any"/);
    // Nothing was recorded: the child's end wakes the parent on its own, and it completes.
    expect(await db.all(sql`SELECT id FROM task_waits WHERE task_id = ${parent}`)).toEqual([]);
    await finishChild(own);
    await waitStatus(parent, "completed");
    expect(await wakes(parent)).toHaveLength(1);
  });

  it("stopping a parent that waits for its subtasks ends it and stops its children", async () => {
    const { parent, ids } = await startParent(
      script("Start one part and wait.", [gatedChild("Stranded part"), { say: "Waiting." }]),
      1,
    );
    const child = ids[0]!;
    await waitStatus(parent, "awaiting_subtasks");
    await waitStatus(child, "running");
    const stop = await api.post(`/api/tasks/${parent}/stop`, { reason: "changed my mind", graceSeconds: 0 });
    expect(stop.status).toBe(200);
    const ended = await waitForTask(api, parent, (t) => t.status === "failed", 60_000);
    expect(ended.failureReason).toBe("stopped by user: changed my mind");
    const stoppedChild = await waitForTask(api, child, (t) => t.status === "failed", 60_000);
    expect(stoppedChild.failureReason).toBe("parent ended");
  });
});
