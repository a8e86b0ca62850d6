import fs from "node:fs";
import path from "node:path";
import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import { eq } from "drizzle-orm";
import type { Browser, Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { chatSessions, nodes, tasks, tokens } from "@/db/schema";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { generateToken, hashToken } from "@/lib/auth/tokens";
import { newId } from "@/lib/ids";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { transitionTask } from "@/lib/tasks/transition";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, openAppDb, ownerApi } from "../helpers/api";
import { type AppServer, killLocalDaemons, startAppServer } from "../helpers/app-server";
import { seriousAxeViolations } from "../helpers/axe";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { createProject, createRootTask } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";
import { AppShell } from "../pages/app-shell";
import { ModelPricesPage } from "../pages/model-prices-page";
import { TaskPage } from "../pages/task-page";
import { Transcript } from "../pages/transcript";

const MODEL = "openai-compatible:fixture-large";
const SCREENSHOTS = path.resolve("test-results/screenshots");

describe("token usage and its cost: the task page, the sidebar group and the admin's price table", () => {
  const repos = makeTempDir("sam-usage-repos-");
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  let db: Db;
  let projectId: string;
  // The test plays a joined node's daemon: it ships the sessions' events to the app's events route.
  const node = { id: newId(), token: generateToken() };
  const seqs = new Map<string, number>();

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    // No scheduler: the tasks stay on the test's node, in the states the test puts them in.
    [app, browser] = await Promise.all([startAppServer({ env: { SAM_SCHEDULER: "off" } }), launchBrowser()]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    db = openAppDb(app);
    projectId = await createProject(api, makeGitRepo(path.join(repos.dir, "usage")));
    await db.insert(nodes).values({ id: node.id, name: "test node", provider: "joined", status: "ready" });
    await db.insert(tokens).values({ id: newId(), kind: "node", tokenHash: hashToken(node.token), nodeId: node.id });
  });
  afterAll(async () => {
    db?.$client.close();
    await browser?.close();
    const dataDir = app?.dataDir;
    await app?.stop();
    if (dataDir) await killLocalDaemons(dataDir);
    repos.cleanup();
  });

  /** Puts a queued task on the test's node, running. */
  async function runOnNode(taskId: string) {
    await db.update(tasks).set({ nodeId: node.id }).where(eq(tasks.id, taskId));
    expect(await transitionTask(db, { taskId, from: ["queued"], to: "running", actor: { kind: "system" } })).toBe(true);
  }

  /** Ships the next events of a task's session as its daemon does. */
  async function ship(taskId: string, ...payloads: AgentEventPayload[]) {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    const events = payloads.map((event) => {
      const seq = (seqs.get(taskId) ?? 0) + 1;
      seqs.set(taskId, seq);
      return { sessionId: session!.id, taskId, seq, at: Date.now(), event };
    });
    const res = await fetch(`${app.baseUrl}/api/daemon/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${node.token}`, "content-type": "application/json" },
      body: JSON.stringify({ nodeId: node.id, events }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { stored: number };
  }

  const usage = (inputTokens: number, outputTokens: number, cachedTokens = 0) =>
    ({ type: "usage", inputTokens, outputTokens, cachedTokens }) as const;

  it("shows a task's own and subtree usage live on its page and its tree's on the sidebar card; the admin's price turns tokens into cost", async () => {
    const root = await createRootTask(api, projectId, "Plan the work", "conversation");
    const { taskId: child } = await dispatchTask(
      db,
      { taskId: root, projectId },
      { description: "Do a part", mode: "conversation" },
    );
    await runOnNode(root);
    await runOnNode(child);

    const taskPage = new TaskPage(owner.page, app.baseUrl, projectId);
    const shell = new AppShell(owner.page);
    await taskPage.open(root);
    await expect(owner.page.getByTestId("task-usage").textContent()).resolves.toContain("No usage reported yet.");

    // The root's first turn, on a model without a price: tokens, and which model lacks one.
    await ship(root, { type: "session_started", harness: "builtin", model: MODEL }, usage(10_000, 2000, 1000));
    await taskPage.ownUsage.getByText("12k tokens").waitFor();
    expect(await taskPage.ownUsage.getByTestId("usage-cost").textContent()).toBe(`no price for ${MODEL}`);

    // The admin prices the model.
    const pricesTab = await owner.context.newPage();
    const prices = new ModelPricesPage(pricesTab, app.baseUrl);
    await prices.open();
    await prices.addPrice({ model: MODEL, input: "2", output: "10" });
    await prices.save();
    await expect(prices.outcome.textContent()).resolves.toBe("Prices saved.");
    await pricesTab.close();

    // The child's turn ends: the page follows without a reload, and so does the root's sidebar card.
    expect(
      await ship(child, { type: "session_started", harness: "builtin", model: MODEL }, usage(100_000, 10_000), {
        type: "turn_ended",
        stopReason: "end_turn",
      }),
    ).toEqual({ stored: 3 });
    // Own: 10k × $2/M + 2k × $10/M = $0.04; with the child's 100k × $2/M + 10k × $10/M: $0.34.
    await taskPage.subtreeUsage.getByText("122k tokens").waitFor();
    expect(await taskPage.subtreeUsage.getByTestId("usage-cost").textContent()).toBe("$0.34");
    expect(await taskPage.ownUsage.getByTestId("usage-cost").textContent()).toBe("$0.04");
    await expect.poll(() => shell.taskGroupUsage(root).textContent(), { timeout: 15_000 }).toBe("122k tokens · $0.34");
    // Shown whole, not cut off by the narrow card.
    expect(await shell.taskGroupUsage(root).evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect(await seriousAxeViolations(owner.page)).toEqual([]);
    await owner.page.screenshot({ path: path.join(SCREENSHOTS, "usage-task-page.png") });
  });

  it("PUT /api/model-prices refuses a negative price, one that is not a number, an unknown field, and anyone but the admin", async () => {
    const put = (token: string | undefined, body: unknown) =>
      fetch(`${app.baseUrl}/api/model-prices`, {
        method: "PUT",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then(async (res) => ({ status: res.status, body: await res.json() }));
    const { token: ownerToken } = await mintPersonalToken(db, (await ensureInstanceOwner(db)).id, { name: "prices" });
    const before = await api.get<{ prices: unknown[] }>("/api/model-prices");
    expect(before.status).toBe(200);

    const refusals = [
      [
        { model: "openai:gpt-x", inputPerMillion: -1, outputPerMillion: 1 },
        "prices.0.inputPerMillion: must not be negative",
      ],
      [
        { model: "openai:gpt-x", inputPerMillion: 1, outputPerMillion: "ten" },
        "prices.0.outputPerMillion: must be a number (US dollars per million tokens)",
      ],
      [
        { model: "openai:gpt-x", inputPerMillion: 1, outputPerMillion: 1, currency: "EUR" },
        "prices.0.currency: is not a known field",
      ],
    ] as const;
    for (const [price, message] of refusals) {
      const res = await put(ownerToken, { prices: [price] });
      expect(res).toEqual({
        status: 400,
        body: { error: expect.objectContaining({ code: "invalid_input", message: `Invalid input: ${message}` }) },
      });
    }

    const member = await createLocalUser(db, { email: "member@example.com" });
    const { token: memberToken } = await mintPersonalToken(db, member.id, { name: "member" });
    expect(await put(memberToken, { prices: [] })).toEqual({
      status: 403,
      body: {
        error: expect.objectContaining({
          code: "forbidden",
          message: "Only the instance admin can change model prices",
        }),
      },
    });
    expect((await put(undefined, { prices: [] })).status).toBe(401);
    // Nothing refused changed the table; a member may read it.
    const memberRead = await fetch(`${app.baseUrl}/api/model-prices`, {
      headers: { authorization: `Bearer ${memberToken}` },
    });
    expect(await memberRead.json()).toEqual(before.body);

    // The page says what is wrong, in the same words.
    const prices = new ModelPricesPage(owner.page, app.baseUrl);
    await prices.open();
    expect(await seriousAxeViolations(owner.page)).toEqual([]);
    await prices.addPrice({ model: "openai:gpt-x", input: "-1", output: "1" });
    await prices.save();
    await expect(prices.outcome.textContent()).resolves.toMatch(/must not be negative/);
    await owner.page.screenshot({ path: path.join(SCREENSHOTS, "usage-model-prices.png") });
    expect((await api.get("/api/model-prices")).body).toEqual(before.body);
  });
  it("shows the agent's plan as one checklist, the latest update replacing the earlier, and usage as no message", async () => {
    const taskId = await createRootTask(api, projectId, "Make a plan", "conversation");
    await runOnNode(taskId);
    await ship(
      taskId,
      { type: "session_started", harness: "acp", model: MODEL },
      { type: "user_message", source: "task", text: "Make a plan" },
      {
        type: "plan",
        entries: [
          { content: "Read the code", status: "in_progress" },
          { content: "Write the fix", status: "pending" },
        ],
      },
      { type: "agent_text", text: "Reading the code." },
      usage(500, 50),
      {
        type: "plan",
        entries: [
          { content: "Read the code", status: "completed" },
          { content: "Write the fix", status: "in_progress", priority: "high" },
        ],
      },
      { type: "agent_text", text: "Writing the fix." },
      usage(700, 70, 100),
      { type: "turn_ended", stopReason: "end_turn" },
    );
    const planStates = (plans: Locator) =>
      plans.locator("li").evaluateAll((items) => items.map((i) => [i.textContent, i.getAttribute("data-status")]));
    const latest = [
      ["☑done: Read the code", "completed"],
      ["◐in progress: Write the fix", "in_progress"],
    ];

    const taskPage = new TaskPage(owner.page, app.baseUrl, projectId);
    await taskPage.open(taskId);
    await taskPage.activity.getByText("Writing the fix.").waitFor();
    expect(await taskPage.plans.count()).toBe(1);
    expect(await planStates(taskPage.plans)).toEqual(latest);
    expect(await taskPage.activityTypes()).not.toContainEqual({ type: "usage" });

    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    const transcript = new Transcript(owner.page, app.baseUrl, projectId);
    await transcript.open(session!.id);
    await transcript.list.getByText("Writing the fix.").waitFor();
    expect(await transcript.plans.count()).toBe(1);
    expect(await planStates(transcript.plans)).toEqual(latest);
    expect(await transcript.replyUsage.allTextContents()).toEqual(["1.2k in · 120 out tokens"]);
    expect(await seriousAxeViolations(owner.page)).toEqual([]);
    await owner.page.screenshot({ path: path.join(SCREENSHOTS, "usage-plan-in-chat.png") });
  });
});
