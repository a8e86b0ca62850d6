import path from "node:path";
import type { AgentEvent, AgentEventPayload } from "@sam/agent-daemon/contract";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { chatSessions, nodes, projects, tasks, taskUsage } from "@/db/schema";
import { loadTranscript } from "@/lib/chat/transcript";
import { SamError } from "@/lib/errors";
import { ingestEvents } from "@/lib/events/ingest";
import { newId } from "@/lib/ids";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { createProject } from "@/lib/projects/projects";
import { loadSidebarPage } from "@/lib/sidebar/load-sidebar";
import { createTask } from "@/lib/tasks/create-task";
import { getTaskForUser, taskDetails } from "@/lib/tasks/show-task";
import { listModelPrices, replaceModelPrices } from "@/lib/usage/prices";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { runSam } from "../helpers/cli";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

const MODEL = "openai-compatible:fixture-large";

describe("token usage and cost", () => {
  let db: Db;
  let dir: string;
  let cleanup: () => void;
  const tmp = makeTempDir("sam-usage-int-");
  let ownerId: string;
  let projectId: string;
  let nodeId: string;

  beforeAll(async () => {
    ({ db, dir, cleanup } = await makeTestDb());
    ownerId = (await ensureInstanceOwner(db)).id;
    projectId = (await createProject(db, ownerId, { repo: makeGitRepo(path.join(tmp.dir, "repo")) })).id;
    nodeId = newId();
    await db.insert(nodes).values({ id: nodeId, name: "test node", provider: "joined", status: "ready" });
  });
  afterAll(() => {
    cleanup();
    tmp.cleanup();
  });

  /** A task's session, as its node's daemon would report on it. */
  async function sessionOf(taskId: string) {
    await db.update(tasks).set({ nodeId }).where(eq(tasks.id, taskId));
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    let seq = 0;
    return {
      sessionId: session!.id,
      /** The next events of the session, numbered as the daemon numbers them. */
      events: (...payloads: AgentEventPayload[]): AgentEvent[] =>
        payloads.map((event) => ({ sessionId: session!.id, taskId, seq: ++seq, at: Date.now(), event })),
    };
  }

  const usage = (inputTokens: number, outputTokens: number, more: { cachedTokens?: number; costUsd?: number } = {}) =>
    ({
      type: "usage",
      inputTokens,
      outputTokens,
      cachedTokens: more.cachedTokens ?? 0,
      costUsd: more.costUsd,
    }) as const;
  const started = (model: string) => ({ type: "session_started", harness: "builtin", model }) as const;

  async function newRoot(title: string) {
    return (await createTask(db, ownerId, { projectId, prompt: title, mode: "conversation" })).id;
  }
  async function newChild(parentId: string, title: string) {
    return (await dispatchTask(db, { taskId: parentId, projectId }, { description: title, mode: "conversation" }))
      .taskId;
  }
  const usageOf = async (taskId: string) => (await taskDetails(db, await getTaskForUser(db, ownerId, taskId))).usage;
  const setPrices = (prices: unknown[]) => replaceModelPrices(db, { userId: ownerId }, { prices });

  it("stores a usage event once per (session, seq), even when its batch is shipped twice", async () => {
    const taskId = await newRoot("Twice shipped");
    const session = await sessionOf(taskId);
    const batch = session.events(started(MODEL), usage(1200, 300, { cachedTokens: 200 }), usage(800, 100));
    expect(await ingestEvents(db, nodeId, batch)).toEqual({ stored: 3 });
    expect(await ingestEvents(db, nodeId, batch)).toEqual({ stored: 0 });

    const rows = await db.select().from(taskUsage).where(eq(taskUsage.taskId, taskId));
    expect(rows.map((r) => [r.seq, r.model, r.inputTokens, r.outputTokens, r.cachedTokens])).toEqual([
      [2, MODEL, 1200, 300, 200],
      [3, MODEL, 800, 100, 0],
    ]);
    expect(await usageOf(taskId)).toMatchObject({ inputTokens: 2000, outputTokens: 400, cachedTokens: 200 });
  });

  it("prices a turn by the model its session started with, else by the task's or the project's model", async () => {
    const taskId = await newRoot("No start event");
    await db.update(tasks).set({ model: "anthropic:claude-task-model" }).where(eq(tasks.id, taskId));
    const session = await sessionOf(taskId);
    await ingestEvents(db, nodeId, session.events(usage(10, 5)));
    const projectTaskId = await newRoot("Project model");
    await db.update(projects).set({ model: "openai:project-model" }).where(eq(projects.id, projectId));
    await ingestEvents(db, nodeId, (await sessionOf(projectTaskId)).events(usage(10, 5)));
    await db.update(projects).set({ model: "scripted" }).where(eq(projects.id, projectId));

    const rows = await db
      .select({ taskId: taskUsage.taskId, model: taskUsage.model })
      .from(taskUsage)
      .where(inArray(taskUsage.taskId, [taskId, projectTaskId]));
    expect(rows).toEqual(
      expect.arrayContaining([
        { taskId, model: "anthropic:claude-task-model" },
        { taskId: projectTaskId, model: "openai:project-model" },
      ]),
    );
  });

  it("a task's own usage is its turns; its subtree's adds every child and grandchild, in one figure", async () => {
    const root = await newRoot("Tree");
    const child = await newChild(root, "Child");
    const sibling = await newChild(root, "Sibling");
    const grandchild = await newChild(child, "Grandchild");
    const sessions = await Promise.all([root, child, sibling, grandchild].map(sessionOf));
    const figures = [
      [1000, 100],
      [2000, 200],
      [3000, 300],
      [4000, 400],
    ];
    await ingestEvents(
      db,
      nodeId,
      sessions.flatMap((s, i) => s.events(started(MODEL), usage(figures[i]![0]!, figures[i]![1]!))),
    );

    const rootUsage = await usageOf(root);
    expect(rootUsage).toMatchObject({ inputTokens: 1000, outputTokens: 100 });
    expect(rootUsage.subtree).toMatchObject({ inputTokens: 10_000, outputTokens: 1000 });
    const childUsage = await usageOf(child);
    expect(childUsage).toMatchObject({ inputTokens: 2000, outputTokens: 200 });
    expect(childUsage.subtree).toMatchObject({ inputTokens: 6000, outputTokens: 600 });
    // A leaf's subtree is itself.
    const { subtree: leafSubtree, ...leafOwn } = await usageOf(grandchild);
    expect(leafOwn).toMatchObject({ inputTokens: 4000, outputTokens: 400 });
    expect(leafSubtree).toEqual(leafOwn);

    // The sidebar's group of the root shows the same whole-tree figure.
    const page = await loadSidebarPage(db, ownerId, projectId, {});
    const group = page.groups.find((g) => g.id === root);
    expect(group?.usage).toMatchObject({ inputTokens: 10_000, outputTokens: 1000 });
  });

  it("a model without a price gives no cost (null) and names the model; the scripted model costs nothing", async () => {
    await setPrices([]);
    const taskId = await newRoot("Unpriced");
    const child = await newChild(taskId, "Scripted child");
    const [s, c] = await Promise.all([sessionOf(taskId), sessionOf(child)]);
    await ingestEvents(db, nodeId, [
      ...s.events(started("openai:unlisted-model"), usage(5000, 500)),
      ...c.events(started("scripted"), usage(100, 10)),
    ]);
    const figures = await usageOf(taskId);
    expect(figures).toMatchObject({ inputTokens: 5000, costUsd: null, unpricedModels: ["openai:unlisted-model"] });
    expect(figures.subtree).toMatchObject({ costUsd: null, unpricedModels: ["openai:unlisted-model"] });
    expect(await usageOf(child)).toMatchObject({ inputTokens: 100, costUsd: 0, unpricedModels: [] });
  });

  it("costs tokens at the table price, cached input at its own price or the input price; an edit reprices", async () => {
    const taskId = await newRoot("Priced");
    const s = await sessionOf(taskId);
    // 1M input of which 400k cached, 100k output.
    await ingestEvents(db, nodeId, s.events(started(MODEL), usage(1_000_000, 100_000, { cachedTokens: 400_000 })));

    await setPrices([{ model: MODEL, inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3 }]);
    // 600k × $3/M + 400k × $0.30/M + 100k × $15/M
    expect((await usageOf(taskId)).costUsd).toBeCloseTo(1.8 + 0.12 + 1.5, 10);

    await setPrices([{ model: MODEL, inputPerMillion: 1, outputPerMillion: 2 }]);
    // Without a cached price, cached input costs the input price: 1M × $1/M + 100k × $2/M.
    expect((await usageOf(taskId)).costUsd).toBeCloseTo(1.2, 10);
    expect(await listModelPrices(db)).toEqual([
      { model: MODEL, inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: null },
    ]);
  });

  it("a turn the agent priced itself costs what it said, whatever the table says", async () => {
    await setPrices([{ model: MODEL, inputPerMillion: 1, outputPerMillion: 1 }]);
    const taskId = await newRoot("Reported");
    const s = await sessionOf(taskId);
    await ingestEvents(
      db,
      nodeId,
      s.events(
        started(MODEL),
        usage(1_000_000, 0, { costUsd: 0.25 }), // the agent's figure, not $1
        usage(1_000_000, 0), // priced by the table: $1
      ),
    );
    expect((await usageOf(taskId)).costUsd).toBeCloseTo(1.25, 10);

    // Even a model without a price has a cost when every turn of it was priced by the agent.
    const agentPriced = await newRoot("Agent priced");
    const a = await sessionOf(agentPriced);
    await ingestEvents(db, nodeId, a.events(started("claude-code:default"), usage(10, 10, { costUsd: 0.5 })));
    expect(await usageOf(agentPriced)).toMatchObject({ costUsd: 0.5, unpricedModels: [] });
  });

  it("the price table refuses a negative price, a price that is not a number, an unknown field and a repeated model", async () => {
    const refusal = async (prices: unknown) => {
      const err = await replaceModelPrices(db, { userId: ownerId }, { prices }).catch((e: unknown) => e);
      expect(SamError.is(err) && err.code).toBe("invalid_input");
      return (err as SamError).message;
    };
    const before = await listModelPrices(db);
    expect(await refusal([{ model: "a:b", inputPerMillion: -1, outputPerMillion: 1 }])).toBe(
      "Invalid input: prices.0.inputPerMillion: must not be negative",
    );
    expect(await refusal([{ model: "a:b", inputPerMillion: 1, outputPerMillion: "2" }])).toBe(
      "Invalid input: prices.0.outputPerMillion: must be a number (US dollars per million tokens)",
    );
    expect(await refusal([{ model: "a:b", inputPerMillion: 1, outputPerMillion: 2, discount: 5 }])).toBe(
      "Invalid input: prices.0.discount: is not a known field",
    );
    expect(
      await refusal([
        { model: "a:b", inputPerMillion: 1, outputPerMillion: 2 },
        { model: "a:b", inputPerMillion: 1, outputPerMillion: 2 },
      ]),
    ).toBe("Invalid input: prices.1.model: a:b is listed twice");
    expect(await refusal([{ model: "a b", inputPerMillion: 1, outputPerMillion: 2 }])).toMatch(
      /prices\.0\.model: must not contain spaces/,
    );
    expect(await listModelPrices(db)).toEqual(before);
  });

  it("only the instance admin may change prices", async () => {
    const member = await createLocalUser(db, { email: "member@example.com" });
    const before = await listModelPrices(db);
    const err = await replaceModelPrices(db, { userId: member.id }, { prices: [] }).catch((e: unknown) => e);
    expect(SamError.is(err) && [err.code, err.message]).toEqual([
      "forbidden",
      "Only the instance admin can change model prices",
    ]);
    expect(await listModelPrices(db)).toEqual(before);
  });

  it("in the transcript a plan is one checklist that the latest update replaces; usage is a figure, not a message", async () => {
    const taskId = await newRoot("Planned");
    const s = await sessionOf(taskId);
    await ingestEvents(
      db,
      nodeId,
      s.events(
        started(MODEL),
        { type: "user_message", source: "task", text: "Planned" },
        { type: "plan", entries: [{ content: "Read the code", status: "in_progress" }] },
        { type: "agent_text", text: "Reading." },
        usage(100, 20),
        {
          type: "plan",
          entries: [
            { content: "Read the code", status: "completed" },
            { content: "Write the fix", status: "in_progress", priority: "high" },
          ],
        },
        { type: "agent_text", text: "Done." },
        usage(300, 40, { cachedTokens: 50 }),
        { type: "turn_ended", stopReason: "end_turn" },
      ),
    );
    const { messages } = await loadTranscript(db, s.sessionId, ownerId);
    const reply = messages.find((m) => m.role === "assistant")!;
    // Each kind of data part is one part, updated where it first appeared.
    expect(reply.parts.map((p) => p.type)).toEqual(["data-plan", "text", "data-usage", "text"]);
    expect(reply.parts[0]).toMatchObject({
      data: {
        entries: [
          { content: "Read the code", status: "completed" },
          { content: "Write the fix", status: "in_progress", priority: "high" },
        ],
      },
    });
    expect([reply.parts[1], reply.parts[3]]).toMatchObject([{ text: "Reading." }, { text: "Done." }]);
    expect(reply.parts[2]).toMatchObject({ data: { inputTokens: 400, outputTokens: 60, cachedTokens: 50 } });
  });

  it("sam task show --json carries the task's usage and its subtree's; the human output a line", async () => {
    await setPrices([{ model: MODEL, inputPerMillion: 2, outputPerMillion: 10 }]);
    const root = await newRoot("Shown");
    const child = await newChild(root, "Shown child");
    const [r, c] = await Promise.all([sessionOf(root), sessionOf(child)]);
    await ingestEvents(db, nodeId, [
      ...r.events(started(MODEL), usage(10_000, 2000, { cachedTokens: 1000 })),
      ...c.events(started("openai:unlisted-model"), usage(300, 30)),
    ]);

    const json = await runSam(["task", "show", root, "--json"], { SAM_DATA_DIR: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).usage).toEqual({
      inputTokens: 10_000,
      outputTokens: 2000,
      cachedTokens: 1000,
      costUsd: expect.closeTo(0.04, 10),
      unpricedModels: [],
      subtree: {
        inputTokens: 10_300,
        outputTokens: 2030,
        cachedTokens: 1000,
        costUsd: null,
        unpricedModels: ["openai:unlisted-model"],
      },
    });
    const human = await runSam(["task", "show", root], { SAM_DATA_DIR: dir });
    expect(human.stdout).toContain(
      "  usage:   12k tokens · $0.04; with its subtasks: 12.3k tokens · no price for openai:unlisted-model",
    );
  });
});
