import path from "node:path";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { tasks as tasksTable, tokens } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { hashToken } from "@/lib/auth/tokens";
import { type ApiClient, openAppDb, ownerApi } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { makeGitRepo } from "../helpers/git";
import {
  callToolOk,
  createProject,
  createRootTask,
  malformedAnswer,
  orchestrationViolations,
  postMcp,
} from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";

const SEED = Number(process.env.SAM_FUZZ_SEED ?? 4_040_404);
const BATCH = 20;
const RUNS = Number(process.env.SAM_FUZZ_RUNS ?? 110); // 110 × 20 = 2,200 tool calls

const TOOL_NAMES = [
  "get_instructions",
  "update_task_status",
  "complete_task",
  "dispatch_task",
  "send_message_to_subtask",
  "stop_subtask",
  "retry_subtask",
  "add_dependency",
  "remove_pending_subtask",
  "get_task_dependencies",
] as const;

/** A task id to resolve when the request is sent: an index into the pool of real ids, or a literal. */
type IdRef = { ref: number } | { mine: number } | { literal: unknown };

/** A value with id references inside; resolved just before sending, against the ids known then. */
type Shaped = IdRef | Shaped[] | { [key: string]: Shaped } | string | number | boolean | null;

interface FuzzRequest {
  caller: number;
  tool: string;
  args: Shaped;
}

const huge = fc.integer({ min: 31_990, max: 40_000 }).map((n) => "ü".repeat(n));
const text = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", " ", "\n\t", "\u0000", "'; DROP TABLE tasks; --", "```sam-script\n[]\n```"),
  },
  { weight: 1, arbitrary: huge },
);
const wrong: fc.Arbitrary<Shaped> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Shaped>,
  fc.constantFrom<Shaped>(null, true, 0, -1, 1e308, [], {}, "NaN"),
);
const idRef: fc.Arbitrary<IdRef> = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map((ref) => ({ ref })) },
  { weight: 4, arbitrary: fc.nat().map((mine) => ({ mine })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          "",
          "no-such-task",
          "00000000-0000-0000-0000-000000000000",
          "%",
          "' OR '1'='1",
          "x".repeat(101),
        ),
        fc.string({ maxLength: 30 }),
        fc.integer(),
      )
      .map((literal) => ({ literal })),
  },
);
/** A value for a known key: mostly of the right shape, sometimes anything at all. */
const field = (right: fc.Arbitrary<Shaped>) =>
  fc.oneof({ weight: 5, arbitrary: right }, { weight: 1, arbitrary: wrong });

const goodText = fc.string({ minLength: 1, maxLength: 60 }).filter((t) => t.trim().length > 0);
/** Mostly one of the caller's own children (the ids a real parent names), else any known id. */
const goodId = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((mine): Shaped => ({ mine })) },
  { weight: 1, arbitrary: fc.nat().map((ref): Shaped => ({ ref })) },
);

/** Per tool: its keys with values of the right shape (`good`), the keys it requires, and chaotic values (`any`). */
const TOOLS: Record<
  string,
  { required: string[]; good: Record<string, fc.Arbitrary<Shaped>>; any: Record<string, fc.Arbitrary<Shaped>> }
> = {
  get_instructions: { required: [], good: {}, any: {} },
  update_task_status: {
    required: ["message"],
    good: { message: goodText, percent: fc.integer({ min: 0, max: 100 }) },
    any: { message: field(text), percent: field(fc.integer({ min: -10, max: 110 })) },
  },
  complete_task: {
    required: ["summary"],
    good: { summary: goodText, prUrl: fc.constant("https://example.com/pr/1") },
    any: { summary: field(text), prUrl: field(fc.constantFrom("https://example.com/pr/1", "not a url")) },
  },
  dispatch_task: {
    required: ["description"],
    good: {
      description: goodText,
      title: goodText,
      mode: fc.constantFrom("task", "conversation"),
      dependsOn: fc.array(goodId, { maxLength: 3 }),
      baseBranch: fc.constantFrom("main", "feature/x", "ok.branch_1"),
    },
    any: {
      description: field(text),
      title: field(text),
      mode: field(fc.constantFrom("task", "conversation", "banana")),
      dependsOn: field(fc.array(idRef, { maxLength: 4 })),
      baseBranch: field(fc.constantFrom("main", "feature/x", "-bad", "a..b", "", "ok.branch_1")),
    },
  },
  send_message_to_subtask: {
    required: ["taskId", "message"],
    good: { taskId: goodId, message: goodText },
    any: { taskId: field(idRef), message: field(text) },
  },
  stop_subtask: {
    required: ["taskId"],
    good: { taskId: goodId, reason: goodText, graceSeconds: fc.integer({ min: 0, max: 30 }) },
    any: {
      taskId: field(idRef),
      reason: field(text),
      graceSeconds: field(fc.oneof(fc.integer({ min: -5, max: 40 }), fc.double({ noNaN: false }))),
    },
  },
  retry_subtask: {
    required: ["taskId"],
    good: { taskId: goodId, extraContext: goodText },
    any: { taskId: field(idRef), extraContext: field(text) },
  },
  add_dependency: {
    required: ["taskId", "dependsOnTaskId"],
    good: { taskId: goodId, dependsOnTaskId: goodId },
    any: { taskId: field(idRef), dependsOnTaskId: field(idRef) },
  },
  remove_pending_subtask: { required: ["taskId"], good: { taskId: goodId }, any: { taskId: field(idRef) } },
  get_task_dependencies: { required: [], good: { taskId: goodId }, any: { taskId: field(idRef) } },
};

const unknownKeys = fc.dictionary(fc.string({ maxLength: 12 }), wrong, { minKeys: 1, maxKeys: 3 });

const request: fc.Arbitrary<FuzzRequest> = fc.oneof(
  // Well-formed arguments (ids real or not): these reach the guarded statements.
  {
    weight: 4,
    arbitrary: fc.constantFrom(...TOOL_NAMES).chain((tool) =>
      fc.record({
        caller: fc.nat(),
        tool: fc.constant(tool),
        args: fc.record(TOOLS[tool]!.good, { requiredKeys: TOOLS[tool]!.required as never[] }) as fc.Arbitrary<Shaped>,
      }),
    ),
  },
  // Arguments shaped like the tool's, with missing, wrong, huge and unknown keys.
  {
    weight: 5,
    arbitrary: fc.constantFrom(...TOOL_NAMES).chain((tool) =>
      fc.record({
        caller: fc.nat(),
        tool: fc.constant(tool),
        args: fc
          .tuple(
            fc.record(TOOLS[tool]!.any, { requiredKeys: [] }),
            fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, unknownKeys),
          )
          .map(([known, extra]) => ({ ...extra, ...known }) as Shaped),
      }),
    ),
  },
  // Anything at all as the arguments, or a tool that does not exist.
  {
    weight: 1,
    arbitrary: fc.record({
      caller: fc.nat(),
      tool: fc.oneof(fc.constantFrom(...TOOL_NAMES, "create_idea", "", "DISPATCH_TASK"), fc.string({ maxLength: 20 })),
      args: wrong,
    }),
  },
);

/**
 * Thousands of random argument objects across every tool, through real HTTP, by callers of every
 * kind: never a 5xx, always a well-formed JSON-RPC result or error, and the database's orchestration
 * invariants hold afterwards.
 */
describe("fuzzing the MCP tools", () => {
  let app: AppServer;
  let api: ApiClient;
  let db: Db;
  const repos = makeTempDir("sam-fuzz-repos-");

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

  it(`${RUNS * BATCH} random tool calls (seed ${SEED}): never a 5xx, always a JSON-RPC result or error, invariants hold`, async () => {
    console.log(
      `orchestration fuzz: fast-check seed ${SEED} (set SAM_FUZZ_SEED to replay), ${RUNS} batches of ${BATCH}`,
    );
    const project = await createProject(api, makeGitRepo(path.join(repos.dir, "repo")), {
      maxDepth: 3,
      maxChildren: 4,
      maxActiveDispatched: 9,
    });
    const other = await createProject(api, makeGitRepo(path.join(repos.dir, "other")));

    // Callers of every kind: roots, children, a grandchild, another project's tasks, dead tokens.
    const r1 = await createRootTask(api, project, "Root one");
    const r2 = await createRootTask(api, project, "Root two", "conversation");
    const x = await createRootTask(api, other, "Another project's root");
    const r1Token = await mintTaskToken(db, r1);
    const c1 = (
      await callToolOk<{ taskId: string }>(app.baseUrl, r1Token, "dispatch_task", { description: "Child one" })
    ).taskId;
    const c2 = (
      await callToolOk<{ taskId: string }>(app.baseUrl, r1Token, "dispatch_task", { description: "Child two" })
    ).taskId;
    const c1Token = await mintTaskToken(db, c1);
    const g1 = (
      await callToolOk<{ taskId: string }>(app.baseUrl, c1Token, "dispatch_task", { description: "Grandchild" })
    ).taskId;
    const xToken = await mintTaskToken(db, x);
    const xc = (
      await callToolOk<{ taskId: string }>(app.baseUrl, xToken, "dispatch_task", { description: "Other child" })
    ).taskId;
    const revoked = await mintTaskToken(db, r2);
    await db
      .update(tokens)
      .set({ revokedAt: new Date() })
      .where(eq(tokens.tokenHash, hashToken(revoked)));
    const live = (token: string, taskId: string) => ({ token, taskId });
    const callers: { token: string | null; taskId?: string }[] = [
      live(r1Token, r1),
      live(r1Token, r1),
      live(r1Token, r1),
      live(await mintTaskToken(db, r2), r2),
      live(await mintTaskToken(db, r2), r2),
      live(c1Token, c1),
      live(await mintTaskToken(db, c2), c2),
      live(await mintTaskToken(db, g1), g1),
      live(xToken, x),
      live(await mintTaskToken(db, xc), xc),
      { token: revoked },
      { token: null },
      { token: "not-a-token" },
    ];
    // Every id the fuzz may name, and each task's children; tasks it creates join as they come back.
    const pool = [r1, r2, c1, c2, g1, x, xc];
    const childrenOf = new Map<string, string[]>([
      [r1, [c1, c2]],
      [c1, [g1]],
      [x, [xc]],
    ]);

    const resolve = (v: Shaped, caller?: string): unknown => {
      if (Array.isArray(v)) return v.map((item) => resolve(item, caller));
      if (v !== null && typeof v === "object") {
        const keys = Object.keys(v);
        if (keys.length === 1 && "ref" in v && typeof v.ref === "number") return pool[v.ref % pool.length];
        if (keys.length === 1 && "mine" in v && typeof v.mine === "number") {
          const mine = (caller && childrenOf.get(caller)) || pool;
          return mine[v.mine % mine.length];
        }
        if (keys.length === 1 && "literal" in v) return v.literal;
        return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, resolve(val as Shaped, caller)]));
      }
      return v;
    };

    const tally = new Map<string, number>();
    const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
    let sent = 0;
    let nextId = 1;

    const details = await fc.check(
      fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const problems = await Promise.all(
          batch.map(async (req) => {
            const id = nextId++;
            const caller = callers[req.caller % callers.length]!;
            const args = resolve(req.args, caller.taskId);
            const raw = await postMcp(app.baseUrl, caller.token, {
              jsonrpc: "2.0",
              id,
              method: "tools/call",
              params: { name: req.tool, arguments: args },
            });
            sent++;
            const label = (TOOL_NAMES as readonly string[]).includes(req.tool) ? req.tool : "(no such tool)";
            const problem = malformedAnswer(raw, id);
            const body = raw.json as
              | { result?: { content: { text: string }[] }; error?: { data?: { code?: string }; code: number } }
              | undefined;
            if (raw.status !== 200) {
              count(`${label}: HTTP ${raw.status}`);
            } else if (body?.result) {
              count(`${label}: ok`);
              const created = JSON.parse(body.result.content[0]!.text) as { taskId?: unknown };
              if (
                (req.tool === "dispatch_task" || req.tool === "retry_subtask") &&
                typeof created.taskId === "string"
              ) {
                pool.push(created.taskId);
                const parent =
                  req.tool === "dispatch_task"
                    ? caller.taskId!
                    : ((await db.query.tasks.findFirst({ where: eq(tasksTable.id, created.taskId) }))?.parentId ?? "");
                childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), created.taskId]);
                // New tasks call too: the tree grows deeper, up to the depth limit.
                callers.push(live(await mintTaskToken(db, created.taskId), created.taskId));
              }
              // A stopped or removed task's token died with it: it leaves the callers (three dead ones stay).
              if (
                (req.tool === "stop_subtask" || req.tool === "remove_pending_subtask") &&
                typeof args === "object" &&
                args
              ) {
                const ended = (args as { taskId?: unknown }).taskId;
                for (let i = callers.length - 1; i >= 0; i--) if (callers[i]!.taskId === ended) callers.splice(i, 1);
              }
            } else if (body?.error) {
              count(`${label}: ${body.error.data?.code ?? `JSON-RPC ${body.error.code}`}`);
            } else {
              count("neither result nor error");
            }
            return problem ? `${problem}\n  request: ${req.tool} ${JSON.stringify(args)?.slice(0, 300)}` : undefined;
          }),
        );
        const found = problems.filter((p) => p !== undefined);
        if (found.length > 0) throw new Error(found.join("\n"));
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Reported here rather than by fc.assert, whose counterexample (with its 40,000-character strings) drowns the problem.
    if (details.failed) {
      throw new Error(
        `fuzz failed at batch ${details.numRuns} (seed ${details.seed}, path ${details.counterexamplePath}):\n${(details.errorInstance as Error | undefined)?.message}`,
      );
    }

    console.log(
      `orchestration fuzz: ${sent} calls; outcomes:\n${[...tally.entries()]
        .sort()
        .map(([k, n]) => `  ${k}: ${n}`)
        .join("\n")}`,
    );
    expect(sent).toBeGreaterThanOrEqual(2000);
    // The fuzz reached past validation: children were created and ordered, and limits refused some.
    expect(tally.get("dispatch_task: ok") ?? 0).toBeGreaterThan(0);
    expect(tally.get("dispatch_task: limit_reached") ?? 0).toBeGreaterThan(0);
    expect(tally.get("dispatch_task: invalid_input") ?? 0).toBeGreaterThan(0);
    expect(tally.get("add_dependency: ok") ?? 0).toBeGreaterThan(0);
    expect(await orchestrationViolations(db)).toEqual([]);
  });

  it("protocol-level junk is refused without a 5xx", async () => {
    const x = await createRootTask(
      api,
      await createProject(api, makeGitRepo(path.join(repos.dir, "junk"))),
      "Junk target",
    );
    const token = await mintTaskToken(db, x);
    const bodies: unknown[] = [
      "{not json",
      "",
      "null",
      "[]",
      [{ jsonrpc: "2.0", id: 1, method: "tools/list" }],
      { jsonrpc: "1.0", id: 1, method: "tools/call" },
      { jsonrpc: "2.0", id: 1, method: "no/such/method" },
      { jsonrpc: "2.0", id: 1, method: "tools/call" },
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: 42 } },
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "dispatch_task", arguments: "a string" } },
      { jsonrpc: "2.0", id: { nested: true }, method: "tools/list" },
      { jsonrpc: "2.0", method: "notifications/initialized" },
    ];
    for (const body of bodies) {
      const raw = await postMcp(app.baseUrl, token, body);
      expect(raw.status, `${JSON.stringify(body)} → ${raw.text}`).toBeLessThan(500);
    }
  });
});
