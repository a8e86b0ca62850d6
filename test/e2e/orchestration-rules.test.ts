import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { and, asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { taskDependencies, taskEvents, tasks, tokens } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { hashToken } from "@/lib/auth/tokens";
import { transitionTask } from "@/lib/tasks/transition";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { makeGitRepo } from "../helpers/git";
import {
  callTool,
  callToolOk,
  createProject,
  createRootTask,
  mcpClient,
  orchestrationViolations,
  snapshotTables,
  type ToolOutcome,
} from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";

type Dispatched = { taskId: string; status: string; blockedBy: string[] };

/** Fails a queued task the way the server would (the one status-change function). */
async function failTask(db: Db, taskId: string, reason = "it broke") {
  const moved = await transitionTask(db, {
    taskId,
    from: ["queued"],
    to: "failed",
    actor: { kind: "system" },
    reason,
    set: { failureReason: reason },
  });
  if (!moved) throw new Error(`could not fail ${taskId}`);
}

describe("orchestration rules with the scheduler off: authorization, depth, retries", () => {
  let app: AppServer;
  let api: ApiClient;
  let db: Db;
  const repos = makeTempDir("sam-rules-repos-");
  let repoCount = 0;
  const newRepo = () => makeGitRepo(path.join(repos.dir, `repo-${++repoCount}`));

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_SCHEDULER: "off" } });
    api = await ownerApi(app);
    db = openAppDb(app);
  });
  afterAll(async () => {
    db?.$client.close();
    await app?.stop();
    repos.cleanup();
  });

  const dispatch = (token: string, args: Record<string, unknown>) =>
    callToolOk<Dispatched>(app.baseUrl, token, "dispatch_task", args);

  describe("only the direct parent may control a child", () => {
    // root R → parent P → { sibling S, target C → child Cc → grandchild Cgc }; X is another project's task.
    const tok: Record<string, string> = {};
    const id: Record<string, string> = {};

    beforeAll(async () => {
      const projectId = await createProject(api, newRepo(), { maxDepth: 5, maxChildren: 20, maxActiveDispatched: 50 });
      id.R = await createRootTask(api, projectId, "The grandparent");
      tok.R = await mintTaskToken(db, id.R);
      id.P = (await dispatch(tok.R, { description: "The parent" })).taskId;
      tok.P = await mintTaskToken(db, id.P);
      id.S = (await dispatch(tok.P, { description: "A sibling of the target" })).taskId;
      tok.S = await mintTaskToken(db, id.S);
      const otherProject = await createProject(api, newRepo());
      id.X = await createRootTask(api, otherProject, "A task of another project");
      tok.X = await mintTaskToken(db, id.X);
      // The parent's own token, revoked: a revoked token is refused whoever it belonged to.
      tok.revoked = await mintTaskToken(db, id.P);
      await db
        .update(tokens)
        .set({ revokedAt: new Date() })
        .where(eq(tokens.tokenHash, hashToken(tok.revoked)));
    });

    /** A fresh target child of P with a child and a grandchild of its own, each with a token. */
    async function freshTarget(label: string) {
      const C = (await dispatch(tok.P!, { description: `Target for ${label}` })).taskId;
      const cTok = await mintTaskToken(db, C);
      const Cc = (await dispatch(cTok, { description: `Child of the target for ${label}` })).taskId;
      const ccTok = await mintTaskToken(db, Cc);
      const Cgc = (await dispatch(ccTok, { description: `Grandchild of the target for ${label}` })).taskId;
      const cgcTok = await mintTaskToken(db, Cgc);
      return { C, ccTok, cgcTok };
    }

    interface ToolCase {
      tool: string;
      args: (C: string) => Record<string, unknown>;
      /** Brings the target into the state in which its parent's call succeeds. */
      prepare?: (C: string) => Promise<void>;
      /** What the parent's successful call did. */
      check: (C: string, result: Record<string, unknown>) => Promise<void>;
      forbidden: RegExp;
    }

    const ONLY_PARENT = /only its direct parent may do that/;
    const CASES: ToolCase[] = [
      {
        tool: "send_message_to_subtask",
        args: (C) => ({ taskId: C, message: "Please also update the README." }),
        forbidden: ONLY_PARENT,
        check: async (C, result) => {
          expect(result).toEqual({ messageId: expect.any(String), delivered: false, queued: true });
          const inbox = await db.all<{ body: string }>(
            sql`SELECT body FROM inbox_messages WHERE task_id = ${C} AND kind = 'message'`,
          );
          expect(inbox.map((m) => m.body)).toEqual(["Please also update the README."]);
        },
      },
      {
        tool: "stop_subtask",
        args: (C) => ({ taskId: C, reason: "not needed", graceSeconds: 0 }),
        forbidden: ONLY_PARENT,
        check: async (C, result) => {
          expect(result).toMatchObject({ stopping: true });
          expect(await db.query.tasks.findFirst({ where: eq(tasks.id, C) })).toMatchObject({
            status: "failed",
            failureReason: "stopped by parent: not needed",
          });
        },
      },
      {
        tool: "retry_subtask",
        args: (C) => ({ taskId: C, extraContext: "Use the other API." }),
        prepare: (C) => failTask(db, C, "tests failed"),
        forbidden: ONLY_PARENT,
        check: async (C, result) => {
          expect(result).toMatchObject({ retryOf: C, attempt: 1, status: "queued" });
          const replacement = await db.query.tasks.findFirst({ where: eq(tasks.id, result.taskId as string) });
          expect(replacement).toMatchObject({ parentId: id.P, retryOfId: C, status: "queued" });
          expect(replacement!.description).toContain("Failure reason: tests failed");
          expect(replacement!.description).toContain("Use the other API.");
        },
      },
      {
        tool: "remove_pending_subtask",
        args: (C) => ({ taskId: C }),
        forbidden: ONLY_PARENT,
        check: async (C, result) => {
          expect(result).toEqual({ removed: true, taskId: C });
          expect(await db.query.tasks.findFirst({ where: eq(tasks.id, C) })).toMatchObject({ status: "cancelled" });
        },
      },
      {
        tool: "add_dependency",
        args: (C) => ({ taskId: C, dependsOnTaskId: id.S }),
        forbidden: ONLY_PARENT,
        check: async (C, result) => {
          expect(result).toMatchObject({ added: true, taskId: C, dependsOnTaskId: id.S });
          expect(await db.select().from(taskDependencies).where(eq(taskDependencies.taskId, C))).toHaveLength(1);
        },
      },
      {
        tool: "get_task_dependencies",
        args: (C) => ({ taskId: C }),
        forbidden: /only your own task or your subtasks/,
        check: async (C, result) => {
          expect(result).toMatchObject({ task: { id: C }, parent: { id: id.P } });
          expect((result.siblings as { id: string }[]).map((s) => s.id)).toContain(id.S);
        },
      },
    ];

    it.each(CASES.map((c) => [c.tool, c] as const))(
      "%s: every caller but the parent is refused, and nothing changes",
      async (_name, c) => {
        const { C, ccTok, cgcTok } = await freshTarget(c.tool);
        await c.prepare?.(C);
        const args = c.args(C);
        const callers: { who: string; token: string | null; expect: (o: ToolOutcome) => void }[] = [
          ...(
            [
              ["sibling", tok.S],
              ["grandparent", tok.R],
              ["child", ccTok],
              ["grandchild", cgcTok],
            ] as const
          ).map(([who, token]) => ({
            who,
            token: token!,
            expect: (o: ToolOutcome) => {
              expect(o.status, who).toBe(200);
              expect(o.error?.data?.code, `${who}: ${o.raw.text}`).toBe("forbidden");
              expect(o.error!.message, who).toMatch(c.forbidden);
              expect(o.error!.message, who).toContain(C);
            },
          })),
          {
            who: "another project",
            token: tok.X!,
            expect: (o) => {
              expect(o.error?.data?.code, o.raw.text).toBe("forbidden");
              expect(o.error!.message).toMatch(
                c.tool === "get_task_dependencies" ? c.forbidden : /it is not a task of your project/,
              );
            },
          },
          {
            who: "revoked token",
            token: tok.revoked!,
            expect: (o) => {
              expect(o.status).toBe(401);
              expect(o.httpError).toMatchObject({ code: "unauthenticated", message: expect.stringMatching(/revoked/) });
            },
          },
          {
            who: "no token",
            token: null,
            expect: (o) => {
              expect(o.status).toBe(401);
              expect(o.httpError).toMatchObject({
                code: "unauthenticated",
                message: expect.stringMatching(/task token is required/),
              });
            },
          },
        ];

        for (const caller of callers) {
          const before = await snapshotTables(db);
          const outcome = await callTool(app.baseUrl, caller.token, c.tool, args);
          caller.expect(outcome);
          expect(await snapshotTables(db), `${c.tool} by ${caller.who} changed the database`).toEqual(before);
        }

        const before = await snapshotTables(db);
        const result = await callToolOk(app.baseUrl, tok.P!, c.tool, args);
        await c.check(C, result);
        if (c.tool !== "get_task_dependencies") expect(await snapshotTables(db)).not.toEqual(before);
      },
    );
  });

  it("a chain of dispatches, each by the child before it, stops at the depth limit with a clear error", async () => {
    const projectId = await createProject(api, newRepo(), { maxDepth: 3 });
    const rootId = await createRootTask(api, projectId, "The top of the chain");
    const clients: Client[] = [];
    try {
      let token = await mintTaskToken(db, rootId);
      const chain: string[] = [rootId];
      for (const depth of [1, 2, 3]) {
        const client = await mcpClient(app.baseUrl, token);
        clients.push(client);
        const result = await client.callTool({ name: "dispatch_task", arguments: { description: `Level ${depth}` } });
        const { taskId } = JSON.parse((result.content as { text: string }[])[0]!.text) as Dispatched;
        const child = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
        expect(child).toMatchObject({ depth, parentId: chain.at(-1), rootId, status: "queued" });
        chain.push(taskId);
        token = await mintTaskToken(db, taskId);
      }
      const deepest = await mcpClient(app.baseUrl, token);
      clients.push(deepest);
      const refused = await deepest.callTool({ name: "dispatch_task", arguments: { description: "Level 4" } }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(McpError);
      const err = refused as McpError;
      expect(err.code).toBe(-32029);
      expect(err.data).toEqual({ code: "limit_reached", limit: "maxDepth", value: 3 });
      expect(err.message).toMatch(
        /Depth limit reached: a subtask here would be at depth 4, and the project's max depth is 3/,
      );
      const [deep] = await db.all<{ n: number }>(
        sql`SELECT count(*) AS n FROM tasks WHERE project_id = ${projectId} AND depth > 3`,
      );
      expect(Number(deep!.n)).toBe(0);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it("retries: only a failed child, once per failed task even when asked at once, at most the project's retry limit", async () => {
    const projectId = await createProject(api, newRepo(), { maxRetries: 2, maxChildren: 20, maxActiveDispatched: 50 });
    const parentId = await createRootTask(api, projectId, "A parent that retries");
    const token = await mintTaskToken(db, parentId);
    const first = (await dispatch(token, { description: "Flaky work" })).taskId;
    const sibling = (await dispatch(token, { description: "Waits on the flaky work", dependsOn: [first] })).taskId;

    // A queued (or running) child is stopped first, not retried.
    const early = await callTool(app.baseUrl, token, "retry_subtask", { taskId: first });
    expect(early.error?.data?.code).toBe("conflict");
    expect(early.error!.message).toMatch(/stop it first/);

    await failTask(db, first, "attempt 0 failed");
    // Ten retries of the same failed child at once: exactly one replacement.
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => callTool(app.baseUrl, token, "retry_subtask", { taskId: first })),
    );
    expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
    const ok = outcomes.filter((o) => o.result !== undefined);
    expect(ok).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.error)) {
      expect(o.error!.data?.code).toBe("conflict");
      expect(o.error!.message).toMatch(/already retried as/);
    }
    const second = (ok[0]!.result as { taskId: string }).taskId;
    expect(await db.select().from(tasks).where(eq(tasks.retryOfId, first))).toHaveLength(1);
    // The sibling that waited on the failed attempt now waits on its replacement.
    expect(
      await db
        .select({ on: taskDependencies.dependsOnTaskId })
        .from(taskDependencies)
        .where(eq(taskDependencies.taskId, sibling)),
    ).toEqual([{ on: second }]);

    await failTask(db, second, "attempt 1 failed");
    const third = (
      await callToolOk<{ taskId: string; attempt: number }>(app.baseUrl, token, "retry_subtask", { taskId: second })
    ).taskId;
    await failTask(db, third, "attempt 2 failed");
    const over = await callTool(app.baseUrl, token, "retry_subtask", { taskId: third });
    expect(over.error?.data).toEqual({ code: "limit_reached", limit: "maxRetries", value: 2 });
    expect(over.error!.message).toMatch(
      /Retry limit reached: this task was retried 2 times, and the project's limit is 2/,
    );
    const lineage = await db
      .select({ id: tasks.id, retryCount: tasks.retryCount })
      .from(tasks)
      .where(eq(tasks.lineageId, first));
    expect(lineage.map((t) => t.retryCount).sort()).toEqual([0, 1, 2]);
    expect(await orchestrationViolations(db)).toEqual([]);
  });

  it("add_dependency and dispatch_task's dependsOn: siblings only, the dependent still queued, no self-edge, a repeat is a no-op", async () => {
    const projectId = await createProject(api, newRepo(), { maxChildren: 20, maxActiveDispatched: 50 });
    const parentId = await createRootTask(api, projectId, "A parent that orders work");
    const token = await mintTaskToken(db, parentId);
    const a = (await dispatch(token, { description: "A" })).taskId;
    const b = (await dispatch(token, { description: "B" })).taskId;
    const other = await createRootTask(api, projectId, "Another root of the same project");
    const otherChild = (await dispatch(await mintTaskToken(db, other), { description: "Not a sibling" })).taskId;

    const c = await dispatch(token, { description: "C", dependsOn: [a, b, a] });
    expect(c.blockedBy.sort()).toEqual([a, b].sort());
    const foreign = await callTool(app.baseUrl, token, "dispatch_task", { description: "D", dependsOn: [otherChild] });
    expect(foreign.error?.data?.code).toBe("invalid_input");
    expect(foreign.error!.message).toContain(otherChild);

    const self = await callTool(app.baseUrl, token, "add_dependency", { taskId: a, dependsOnTaskId: a });
    expect(self.error?.data?.code).toBe("invalid_input");
    expect(self.error!.message).toMatch(/itself/);
    expect(await callToolOk(app.baseUrl, token, "add_dependency", { taskId: b, dependsOnTaskId: a })).toMatchObject({
      added: true,
    });
    expect(await callToolOk(app.baseUrl, token, "add_dependency", { taskId: b, dependsOnTaskId: a })).toMatchObject({
      added: false,
      alreadyExisted: true,
    });
    const cycle = await callTool(app.baseUrl, token, "add_dependency", { taskId: a, dependsOnTaskId: c.taskId });
    expect(cycle.error?.data?.code).toBe("conflict");
    expect(cycle.error!.message).toMatch(/cycle/);
    const crossParent = await callTool(app.baseUrl, token, "add_dependency", {
      taskId: a,
      dependsOnTaskId: otherChild,
    });
    expect(crossParent.error?.data?.code).toBe("forbidden");

    await failTask(db, b, "broken");
    const notQueued = await callTool(app.baseUrl, token, "add_dependency", { taskId: b, dependsOnTaskId: c.taskId });
    expect(notQueued.error?.data?.code).toBe("conflict");
    expect(notQueued.error!.message).toMatch(/only a queued task can gain a dependency/);

    const graph = await callToolOk<{ blocked: { taskId: string; waitingOn: { id: string }[] }[]; edges: unknown[] }>(
      app.baseUrl,
      token,
      "get_task_dependencies",
      {},
    );
    expect(graph.edges).toHaveLength(3);
    const blockedC = graph.blocked.find((x) => x.taskId === c.taskId);
    expect(blockedC?.waitingOn.map((w) => w.id).sort()).toEqual([a, b].sort());
    expect(await orchestrationViolations(db)).toEqual([]);
  });
});

describe("dependencies gate execution (scheduler on, scripted agents)", () => {
  let app: AppServer;
  let api: ApiClient;
  let db: Db;
  const repos = makeTempDir("sam-deps-repos-");
  let projectId: string;
  let parentToken: string;

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    db = openAppDb(app);
    projectId = await createProject(api, makeGitRepo(path.join(repos.dir, "repo")), {
      maxChildren: 20,
      maxActiveDispatched: 50,
    });
    // The parent is a conversation: it stays alive (awaiting follow-up) while its children run.
    const parentId = await createRootTask(
      api,
      projectId,
      scriptPrompt("Coordinate.", [{ say: "Ready." }]),
      "conversation",
    );
    await waitForTask(api, parentId, (t) => t.status === "awaiting_followup" || isTerminal(t));
    parentToken = await mintTaskToken(db, parentId);
  });
  afterAll(async () => {
    db?.$client.close();
    await app?.stop();
    repos.cleanup();
  });

  const dispatch = (args: Record<string, unknown>) =>
    callToolOk<Dispatched>(app.baseUrl, parentToken, "dispatch_task", args);

  /** When a task's status first became `to`, from its event log. */
  async function when(taskId: string, to: string): Promise<number> {
    const row = await db.query.taskEvents.findFirst({
      where: and(eq(taskEvents.taskId, taskId), eq(taskEvents.toStatus, to as "queued")),
      orderBy: asc(taskEvents.id),
    });
    if (!row) throw new Error(`task ${taskId} never became ${to}`);
    return row.createdAt.getTime();
  }

  it("C, which depends on A and B, starts only after both completed", async () => {
    const a = await dispatch({ description: scriptPrompt("A: slow work.", [{ sleep: 1500 }, { say: "A done" }]) });
    const b = await dispatch({ description: scriptPrompt("B: slower work.", [{ sleep: 3000 }, { say: "B done" }]) });
    const c = await dispatch({
      description: scriptPrompt("C: builds on A and B.", [{ say: "C done" }]),
      dependsOn: [a.taskId, b.taskId],
    });
    expect(c.blockedBy.sort()).toEqual([a.taskId, b.taskId].sort());

    const done = await waitForTask(api, c.taskId, isTerminal, 90_000);
    expect(done.status).toBe("completed");
    for (const t of [a, b]) expect((await waitForTask(api, t.taskId, isTerminal)).status).toBe("completed");
    const [aDone, bDone, cQueued, cStart] = await Promise.all([
      when(a.taskId, "completed"),
      when(b.taskId, "completed"),
      when(c.taskId, "queued"),
      when(c.taskId, "provisioning"),
    ]);
    // C was waiting before either finished, and was claimed only after both had.
    expect(cQueued).toBeLessThan(aDone);
    expect(cStart).toBeGreaterThanOrEqual(Math.max(aDone, bDone));
  });

  it("a failed dependency leaves dependents waiting; removing one they wait on is refused; a retry re-points the edge in one step", async () => {
    const a = await dispatch({ description: 'A2: a broken script.\n\n```sam-script\n[{"tool": 42}\n```\n' });
    const b = await dispatch({ description: scriptPrompt("B2: quick.", [{ say: "B2 done" }]) });
    const c = await dispatch({
      description: scriptPrompt("C2: needs A2 and B2.", [{ say: "C2 done" }]),
      dependsOn: [a.taskId, b.taskId],
    });
    const d = await dispatch({
      description: scriptPrompt("D2: needs C2.", [{ say: "D2 done" }]),
      dependsOn: [c.taskId],
    });

    const failed = await waitForTask(api, a.taskId, isTerminal, 60_000);
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toMatch(/agent error/);
    expect((await waitForTask(api, b.taskId, isTerminal)).status).toBe("completed");
    // Several scheduler passes later C2 and D2 still wait.
    await new Promise((r) => setTimeout(r, 1500));
    for (const t of [c, d])
      expect((await db.query.tasks.findFirst({ where: eq(tasks.id, t.taskId) }))?.status).toBe("queued");

    // C2 cannot be removed from under D2, and the refusal names D2.
    const removal = await callTool(app.baseUrl, parentToken, "remove_pending_subtask", { taskId: c.taskId });
    expect(removal.error?.data).toMatchObject({ code: "conflict", dependents: [d.taskId] });
    expect(removal.error!.message).toContain(d.taskId);
    expect(removal.error!.message).toContain("D2: needs C2.");
    expect((await db.query.tasks.findFirst({ where: eq(tasks.id, c.taskId) }))?.status).toBe("queued");

    // Watch the edge while the retry runs: in no state is the replacement there while C2 still waits on A2.
    let watching = true;
    const torn: unknown[] = [];
    const watcher = (async () => {
      while (watching) {
        const [row] = await db.all<{ rep: string | null; old: number; viaRep: number }>(sql`
          SELECT (SELECT id FROM tasks WHERE retry_of_id = ${a.taskId}) AS rep,
            (SELECT count(*) FROM task_dependencies WHERE task_id = ${c.taskId} AND depends_on_task_id = ${a.taskId}) AS old,
            (SELECT count(*) FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_task_id
              WHERE d.task_id = ${c.taskId} AND t.retry_of_id = ${a.taskId}) AS viaRep`);
        if (row!.rep !== null && (Number(row!.old) !== 0 || Number(row!.viaRep) !== 1)) torn.push(row);
        if (row!.rep === null && (Number(row!.old) !== 1 || Number(row!.viaRep) !== 0)) torn.push(row);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const retried = await callToolOk<{ taskId: string; retryOf: string; blockedBy: string[] }>(
      app.baseUrl,
      parentToken,
      "retry_subtask",
      {
        taskId: a.taskId,
        extraContext: `Fixed script:\n\n\`\`\`sam-script\n${JSON.stringify([{ say: "A2 fixed" }])}\n\`\`\``,
      },
    );
    watching = false;
    await watcher;
    expect(torn).toEqual([]);
    expect(retried.retryOf).toBe(a.taskId);
    const edges = await db
      .select({ on: taskDependencies.dependsOnTaskId })
      .from(taskDependencies)
      .where(eq(taskDependencies.taskId, c.taskId));
    expect(edges.map((e) => e.on).sort()).toEqual([retried.taskId, b.taskId].sort());

    // The replacement runs, then C2, then D2.
    expect((await waitForTask(api, retried.taskId, isTerminal, 60_000)).status).toBe("completed");
    expect((await waitForTask(api, c.taskId, isTerminal, 60_000)).status).toBe("completed");
    expect((await waitForTask(api, d.taskId, isTerminal, 60_000)).status).toBe("completed");
    expect(await when(c.taskId, "provisioning")).toBeGreaterThanOrEqual(await when(retried.taskId, "completed"));
    expect(await when(d.taskId, "provisioning")).toBeGreaterThanOrEqual(await when(c.taskId, "completed"));
  });
});
