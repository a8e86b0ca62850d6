import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { addMember } from "@/lib/projects/projects";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { verifySignature } from "@/lib/webhooks/signature";
import type { WebhookDeliverySummary, WebhookSummary } from "@/lib/webhooks/store";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";
import { type ReceivedRequest, startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver";
import { WebhooksPanel } from "../pages/webhooks-panel";

const SECRET = "whsec-e2e-0123456789abcdef";
const ENV = { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" };

interface JsonPayload {
  id: string;
  event: {
    seq: number;
    kind: string;
    urgency: string;
    title: string;
    body: string;
    projectId: string;
    projectName: string;
    taskId: string | null;
    url: string;
    createdAt: string;
    updatedAt: string;
  };
}

/** The requests one webhook (by its path on the receiver) got. */
const at = (requests: ReceivedRequest[], path: string) => requests.filter((r) => r.path === path);
const jsonOf = (r: ReceivedRequest) => r.json as JsonPayload;

describe("webhooks: a project's notifications reach the outside", () => {
  const data = makeTempDir("sam-webhooks-app-");
  const repos = makeTempDir("sam-webhooks-repos-");
  let app: AppServer;
  let api: ApiClient;
  let receiver: WebhookReceiver;
  let projectId: string;
  let completedTask: string;
  let failedTask: string;
  const hooks: Record<string, WebhookSummary> = {};

  /** The receiver's URL for one webhook: its path tells the webhooks apart. */
  const urlOf = (name: string) => `${receiver.origin}/${name}/T0SECRET/B0SECRET/token-${name}`;
  const pathOf = (name: string) => new URL(urlOf(name)).pathname;

  async function addHook(name: string, body: Record<string, unknown>) {
    const res = await api.post<WebhookSummary>(`/api/projects/${projectId}/webhooks`, { url: urlOf(name), ...body });
    expect(res.status).toBe(201);
    hooks[name] = res.body;
    return res.body;
  }

  async function runTask(prompt: string) {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode: "task" });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  /** A webhook's delivery log once `done` holds (the receiver answers before the attempt is recorded). */
  async function deliveriesWhen(name: string, done: (log: WebhookDeliverySummary[]) => boolean, client = api) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await client.get<WebhookDeliverySummary[]>(
        `/api/projects/${projectId}/webhooks/${hooks[name]!.id}/deliveries`,
      );
      expect(res.status).toBe(200);
      if (done(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`Deliveries of ${name} did not settle: ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // The flaky webhook refuses its first two requests.
    receiver.answer((_n, path) => (path === pathOf("flaky") && at(receiver.requests, path).length < 2 ? 500 : 200));
    app = await startAppServer({ env: ENV, dataDir: data.dir });
    api = await ownerApi(app);
    const repo = makeGitRepo(path.join(repos.dir, "project"));
    const res = await api.post<{ id: string }>("/api/projects", { repo, name: "hooked" });
    expect(res.status).toBe(201);
    projectId = res.body.id;

    await addHook("json", { secret: SECRET });
    await addHook("slack", { format: "slack" });
    await addHook("discord", { format: "discord", kinds: ["task_completed", "task_failed"] });
    await addHook("flaky", { kinds: ["task_completed"] });
    await addHook("removed", { kinds: ["task_completed", "task_failed"] });

    completedTask = await runTask(
      scriptPrompt("Write a note.", [
        { tool: "write_file", args: { path: "note.txt", content: "hi\n" } },
        { tool: "complete_task", args: { summary: "Wrote note.txt" } },
      ]),
    );
    expect((await waitForTask(api, completedTask, isTerminal)).status).toBe("completed");
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
    repos.cleanup();
    data.cleanup();
  });

  it("a completed task reaches the json webhook, signed: the signature verifies with the secret only", async () => {
    const [request] = at(
      await receiver.waitFor((r) => at(r, pathOf("json")).some((x) => jsonOf(x).event.kind === "task_completed")),
      pathOf("json"),
    ).filter((x) => jsonOf(x).event.kind === "task_completed");
    const payload = jsonOf(request!);
    expect(payload.event).toMatchObject({
      kind: "task_completed",
      projectId,
      projectName: "hooked",
      taskId: completedTask,
      url: `${app.baseUrl}/projects/${projectId}/tasks/${completedTask}`,
    });
    expect(request!.headers["x-sam-event"]).toBe("task_completed");
    expect(request!.headers["x-sam-delivery"]).toBe(payload.id);
    expect(request!.headers["content-type"]).toBe("application/json");
    const signature = request!.headers["x-sam-signature-256"] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, request!.raw, signature)).toBe(true);
    expect(verifySignature("whsec-someone-else-0123456789", request!.raw, signature)).toBe(false);
    // Changing one byte of the body breaks it.
    const tampered = Buffer.from(request!.raw);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
    expect(verifySignature(SECRET, tampered, signature)).toBe(false);
  });

  it("slack and discord get their own payload shapes, unsigned", async () => {
    const requests = await receiver.waitFor(
      (r) => at(r, pathOf("slack")).length > 0 && at(r, pathOf("discord")).length > 0,
    );
    const slack = at(requests, pathOf("slack"))[0]!;
    const discord = at(requests, pathOf("discord"))[0]!;
    const taskLink = `${app.baseUrl}/projects/${projectId}/tasks/${completedTask}`;
    expect(slack.json).toMatchObject({
      text: expect.stringMatching(/^Task completed: /),
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: expect.stringContaining(`<${taskLink}|`) } },
        { type: "context", elements: [{ type: "mrkdwn", text: "Task completed · hooked" }] },
      ],
    });
    expect(discord.json).toMatchObject({
      content: "**Task completed** · hooked",
      embeds: [{ title: expect.any(String), url: taskLink, color: expect.any(Number) }],
      allowed_mentions: { parse: [] },
    });
    expect(slack.headers["x-sam-signature-256"]).toBeUndefined();
    expect(discord.headers["x-sam-signature-256"]).toBeUndefined();
  });

  it("a receiver that answers 500 twice gets the event on the third try; the log shows 500, 500, 200", async () => {
    const requests = at(await receiver.waitFor((r) => at(r, pathOf("flaky")).length >= 3, 30_000), pathOf("flaky"));
    expect(requests.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(requests.map((r) => r.headers["x-sam-delivery"])).size).toBe(1);
    const [delivery] = await deliveriesWhen("flaky", (log) => log[0]?.status === "delivered");
    expect(delivery).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200, kind: "task_completed" });
    expect(delivery!.attemptLog.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    expect(delivery!.attemptLog[0]!.error).toBe("HTTP 500: nope");
    expect(delivery!.attemptLog.every((a) => a.durationMs >= 0)).toBe(true);
  });

  it("a failed task reaches the webhooks; a removed webhook gets nothing more", async () => {
    await receiver.waitFor((r) => at(r, pathOf("removed")).length === 1);
    const removed = await fetch(`${app.baseUrl}/api/projects/${projectId}/webhooks/${hooks.removed!.id}`, {
      method: "DELETE",
      headers: { authorization: await ownerAuthorization(app) },
    });
    expect(removed.status).toBe(204);

    failedTask = await runTask('Broken.\n\n```sam-script\n[{"tool": 42}\n```\n');
    expect((await waitForTask(api, failedTask, isTerminal)).status).toBe("failed");
    const requests = await receiver.waitFor(
      (r) =>
        at(r, pathOf("discord")).some((x) => JSON.stringify(x.json).includes("Task failed")) &&
        at(r, pathOf("json")).some((x) => jsonOf(x).event.kind === "task_failed"),
    );
    const failed = at(requests, pathOf("json")).find((x) => jsonOf(x).event.kind === "task_failed")!;
    expect(jsonOf(failed).event).toMatchObject({ taskId: failedTask, kind: "task_failed" });
    expect(verifySignature(SECRET, failed.raw, failed.headers["x-sam-signature-256"] as string)).toBe(true);
    // The same pass that took the failure for the others would have taken it for the removed one.
    expect(at(receiver.requests, pathOf("removed"))).toHaveLength(1);
    const list = await api.get<WebhookSummary[]>(`/api/projects/${projectId}/webhooks`);
    expect(list.body.map((w) => w.id)).not.toContain(hooks.removed!.id);
  });

  it("a task that asks a person reaches the webhooks as needs_input, urgency high", async () => {
    const asking = await runTask(
      scriptPrompt("Ask first.", [
        { tool: "request_human_input", args: { question: "Which colour?", options: ["red", "blue"] } },
      ]),
    );
    const requests = await receiver.waitFor(
      (r) => at(r, pathOf("json")).some((x) => jsonOf(x).event.kind === "needs_input"),
      60_000,
    );
    const asked = at(requests, pathOf("json")).find((x) => jsonOf(x).event.kind === "needs_input")!;
    expect(jsonOf(asked).event).toMatchObject({ taskId: asking, urgency: "high" });
    expect(JSON.stringify(asked.json)).toContain("Which colour?");
    expect(verifySignature(SECRET, asked.raw, asked.headers["x-sam-signature-256"] as string)).toBe(true);
  });

  it("only an owner may add a webhook; the URL and secret never come back from the API or the CLI", async () => {
    const db = openAppDb(app);
    let memberToken: string;
    let strangerToken: string;
    try {
      const owner = await ensureInstanceOwner(db);
      const member = await createLocalUser(db, { email: "member@example.com" });
      const stranger = await createLocalUser(db, { email: "stranger@example.com" });
      await addMember(db, owner.id, projectId, { email: "member@example.com" });
      memberToken = (await mintPersonalToken(db, member.id, { name: "member" })).token;
      strangerToken = (await mintPersonalToken(db, stranger.id, { name: "stranger" })).token;
    } finally {
      db.$client.close();
    }
    const tryAdd = (token: string) =>
      fetch(`${app.baseUrl}/api/projects/${projectId}/webhooks`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ url: urlOf("sneaky") }),
      });
    expect((await tryAdd(memberToken)).status).toBe(403);
    expect((await tryAdd(strangerToken)).status).toBe(404);
    const memberList = await fetch(`${app.baseUrl}/api/projects/${projectId}/webhooks`, {
      headers: { authorization: `Bearer ${memberToken}` },
    });
    expect(memberList.status).toBe(403);

    const list = await api.get<WebhookSummary[]>(`/api/projects/${projectId}/webhooks`);
    expect(list.status).toBe(200);
    expect(list.body.find((w) => w.id === hooks.json!.id)).toMatchObject({
      urlHint: `${receiver.origin}/…`,
      format: "json",
      signed: true,
    });
    const log = await api.get(`/api/projects/${projectId}/webhooks/${hooks.json!.id}/deliveries`);
    const env = { SAM_DATA_DIR: app.dataDir };
    const added = await runSam(
      ["webhook", "add", "--project", projectId, "--url", urlOf("cli"), "--secret-stdin", "--json"],
      env,
      undefined,
      `${SECRET}\n`,
    );
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ urlHint: `${receiver.origin}/…`, signed: true });
    const cliList = await runSam(["webhook", "list", "--project", projectId], env);
    const cliJson = await runSam(["webhook", "list", "--project", projectId, "--json"], env);
    const cliLog = await runSam(["webhook", "deliveries", hooks.json!.id.slice(0, 8)], env);
    expect(cliList.code).toBe(0);
    expect(cliList.stdout).toContain(`${receiver.origin}/…`);
    expect(cliLog.stdout).toContain("delivered");
    for (const output of [
      JSON.stringify(list.body),
      JSON.stringify(log.body),
      added.stdout + added.stderr,
      cliList.stdout + cliList.stderr,
      cliJson.stdout + cliJson.stderr,
      cliLog.stdout + cliLog.stderr,
    ]) {
      expect(output).not.toContain("T0SECRET");
      expect(output).not.toContain(SECRET);
    }
    const removed = await runSam(["webhook", "remove", JSON.parse(added.stdout).id], env);
    expect(removed.code).toBe(0);
    // Refused and retried attempts included, the server's log never holds a webhook's URL or secret.
    expect(app.output()).not.toContain("T0SECRET");
    expect(app.output()).not.toContain(SECRET);
  });

  it("the settings page lists a webhook by its host, shows its deliveries, and Replay sends one again", async () => {
    const browser: Browser = await launchBrowser();
    try {
      const { page } = await signInWithLink(browser, app.signInLink, app.baseUrl);
      const panel = new WebhooksPanel(page, app.baseUrl);
      await panel.open(projectId);
      const uiUrl = `http://localhost:${receiver.port}/ui/T0SECRET/token-ui`;
      await panel.add(uiUrl, { format: "json" });
      const hint = `http://localhost:${receiver.port}/…`;
      await expect.poll(() => panel.hints().allTextContents()).toContain(hint);
      expect(await page.content()).not.toContain("T0SECRET");

      // Its first event: the next task that ends.
      const task = await runTask(scriptPrompt("Another note.", [{ tool: "complete_task", args: { summary: "ok" } }]));
      await waitForTask(api, task, isTerminal);
      await receiver.waitFor((r) => at(r, "/ui/T0SECRET/token-ui").length === 1);
      await expect
        .poll(async () => {
          await panel.open(projectId);
          return panel.deliveries(hint).allTextContents();
        })
        .toEqual([expect.stringMatching(/^delivered/)]);
      await panel.replayFirst(hint);
      const requests = at(
        await receiver.waitFor((r) => at(r, "/ui/T0SECRET/token-ui").length === 2),
        "/ui/T0SECRET/token-ui",
      );
      expect(jsonOf(requests[1]!).event.seq).toBe(jsonOf(requests[0]!).event.seq);
      expect(requests[1]!.headers["x-sam-delivery"]).not.toBe(requests[0]!.headers["x-sam-delivery"]);
      await panel.remove(hint);
      await expect.poll(() => panel.hints().allTextContents(), { timeout: 15_000 }).not.toContain(hint);
    } finally {
      await browser.close();
    }
  });

  it("nothing is lost across a restart: a delivery pending while the receiver is down arrives after it", async () => {
    const down = await startWebhookReceiver();
    const port = down.port;
    const res = await api.post<WebhookSummary>(`/api/projects/${projectId}/webhooks`, {
      url: `${down.origin}/restart`,
      kinds: ["task_completed"],
    });
    hooks.restart = res.body;
    await down.close();

    const task = await runTask(scriptPrompt("One more note.", [{ tool: "complete_task", args: { summary: "ok" } }]));
    await waitForTask(api, task, isTerminal);
    // The first attempt found nobody listening.
    const [pending] = await deliveriesWhen("restart", (log) => (log[0]?.attemptLog.length ?? 0) >= 1);
    expect(pending).toMatchObject({ status: "pending" });
    expect(pending!.attemptLog[0]).toMatchObject({ statusCode: null, error: "connection refused" });

    await app.stop({ keepData: true });
    const back = await startWebhookReceiver({ port });
    try {
      app = await startAppServer({ env: ENV, dataDir: data.dir });
      api = await ownerApi(app);
      const [request] = await back.waitFor((r) => r.length >= 1, 60_000);
      expect((request!.json as JsonPayload).event).toMatchObject({ taskId: task, kind: "task_completed" });
      const [delivered] = await deliveriesWhen("restart", (log) => log[0]?.status === "delivered");
      expect(delivered!.attemptLog.at(-1)).toMatchObject({ statusCode: 200, error: null });
      expect(delivered!.id).toBe(pending!.id);
    } finally {
      await back.close();
    }
  });
});

/** The owner's bearer header, for a request the API client does not make (DELETE). */
async function ownerAuthorization(app: AppServer): Promise<string> {
  const db = openAppDb(app);
  try {
    const { token } = await mintPersonalToken(db, (await ensureInstanceOwner(db)).id, { name: "delete" });
    return `Bearer ${token}`;
  } finally {
    db.$client.close();
  }
}
