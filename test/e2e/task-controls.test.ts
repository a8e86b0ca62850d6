import path from "node:path";
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inboxMessages, nodes, tasks } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { callToolOk } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";

type Dispatched = { taskId: string; status: string; blockedBy: string[] };

/** The status the task page shows, waiting (live, without reloading) until it is `status`. */
async function waitForStatus(page: Page, status: string, timeout = 60_000): Promise<void> {
  await page.locator(`[data-testid="task-status"] [data-status="${status}"]`).waitFor({ timeout });
}

/** A task's row as stored, read by the test itself. */
async function storedTask(app: AppServer, taskId: string) {
  const db = openAppDb(app);
  try {
    return await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
  } finally {
    db.$client.close();
  }
}

describe("controlling a task from its page", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  const repos = makeTempDir("sam-controls-repos-");
  let projectId: string;
  /** A parent conversation with a long-running child and two children queued behind it. */
  const family = { parent: "", running: "", queued: "", other: "" };

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "controls")),
    });
    expect(created.status).toBe(201);
    projectId = created.body.id;
    // One second of grace keeps the stops short; the protocol is the same.
    expect((await api.patch(`/api/projects/${projectId}`, { stopGraceSeconds: 1 })).status).toBe(200);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  async function createTask(prompt: string, mode: "task" | "conversation" = "task"): Promise<string> {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function openTask(taskId: string, page = owner.page): Promise<void> {
    await page.goto(`${app.baseUrl}/projects/${projectId}/tasks/${taskId}`);
    // Live (or, for an ended task, finished): the page is hydrated and its controls work.
    await page.locator('[data-testid="stream-state"]:is([data-state="live"], [data-state="ended"])').waitFor();
  }

  it("stops a running task after a confirmation: it fails with the user's reason, shown in the timeline", async () => {
    const { page } = owner;
    const taskId = await createTask(scriptPrompt("Work for long.", [{ say: "started working" }, { sleep: 60_000 }]));
    await openTask(taskId);
    // The agent said its line, so it is inside the long sleep now.
    await page
      .getByTestId("task-event-log")
      .locator('[data-type="agent_text"]')
      .getByText("started working")
      .waitFor({ timeout: 60_000 });
    await waitForStatus(page, "running");

    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await page.getByText(/gets 1 s to commit its work/).waitFor();
    await page.getByLabel("Reason (optional)").fill("wrong approach");
    await page.getByRole("button", { name: "Confirm stop" }).click();

    await waitForStatus(page, "failed");
    const timeline = page.getByTestId("task-timeline");
    await timeline.getByText("stopped by user: wrong approach").waitFor();
    expect(await page.getByTestId("task-failure").textContent()).toContain("Stoppedstopped by user: wrong approach");
    // The daemon ended the session with the reason, after saving the work.
    const log = page.getByTestId("task-event-log");
    await log.locator('[data-type="session_finished"]').getByText("stopped by user: wrong approach").waitFor();
    // Nothing is left to stop; the button says why.
    const stop = page.getByTestId("task-controls").getByRole("button", { name: "Stop", exact: true });
    expect(await stop.isDisabled()).toBe(true);
    await page
      .getByTestId("task-controls")
      .getByText("The task has ended (failed); there is nothing to stop.")
      .waitFor();
  });

  it("retries a failed task: a new task, linked as the old one's retry, is told what went wrong and runs", async () => {
    const { page } = owner;
    const failedId = await createTask('Broken script.\n\n```sam-script\n[{"tool": 42}\n```\n');
    const failed = await waitForTask(api, failedId, isTerminal);
    expect(failed.status).toBe("failed");
    await openTask(failedId);
    await page
      .getByTestId("task-failure")
      .getByText(/agent error/)
      .waitFor();

    await page.getByRole("button", { name: "Retry", exact: true }).click();
    await page
      .getByLabel("Note for the new attempt (optional)")
      .fill(scriptPrompt("Do it right this time.", [{ say: "the retry works" }]));
    await page.getByRole("button", { name: "Retry now" }).click();
    await page.waitForURL((url) => /\/tasks\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(failedId));
    const retryId = page.url().split("/").pop()!;

    expect(await page.getByTestId("task-retry-of").textContent()).toBe(failedId);
    const description = (await page.getByTestId("task-description").textContent()) ?? "";
    expect(description).toContain("This is retry 1 of a task that failed");
    expect(description).toContain(`Failure reason: ${failed.failureReason}`);
    expect(description).toContain("From the user:");
    await waitForStatus(page, "completed");
    await page.getByTestId("task-event-log").locator('[data-type="agent_text"]').getByText("the retry works").waitFor();
    expect(await storedTask(app, retryId)).toMatchObject({
      retryOfId: failedId,
      lineageId: failedId,
      retryCount: 1,
      parentId: null,
    });

    // The failed task points at its replacement and offers no second retry.
    await openTask(failedId);
    expect(await page.getByTestId("task-retried-as").textContent()).toBe(retryId);
    expect(await page.getByTestId("task-controls").getByRole("button", { name: "Retry" }).count()).toBe(0);
  });

  it("shows a parent's subtasks with the edges between them, and removes a queued subtask", async () => {
    const { page } = owner;
    family.parent = await createTask(scriptPrompt("Plan the work.", [{ say: "planning" }]), "conversation");
    await waitForTask(api, family.parent, (t) => t.status === "awaiting_followup");
    const db = openAppDb(app);
    const token = await mintTaskToken(db, family.parent);
    db.$client.close();
    const dispatch = (args: Record<string, unknown>) =>
      callToolOk<Dispatched>(app.baseUrl, token, "dispatch_task", args);
    family.running = (
      await dispatch({
        title: "Build the base",
        description: scriptPrompt("Base.", [{ say: "base" }, { sleep: 60_000 }]),
      })
    ).taskId;
    const queued = await dispatch({ title: "Use the base", description: "Later.", dependsOn: [family.running] });
    family.queued = queued.taskId;
    family.other = (await dispatch({ title: "Also later", description: "Later.", dependsOn: [family.running] })).taskId;
    expect(queued.blockedBy).toEqual([family.running]);

    await openTask(family.parent);
    const children = page.getByTestId("task-children");
    const dependent = children.locator(`[data-testid="task-child"][data-task-id="${family.queued}"]`);
    await dependent.getByText("BLOCKED: Waiting on Build the base").waitFor();
    expect(await dependent.getByTestId("child-dependency").getAttribute("data-depends-on")).toBe(family.running);
    expect(await dependent.getByTestId("child-dependency").textContent()).toMatch(/^waits on Build the base/);

    // The child that others wait on runs; it cannot be removed, and the page says why.
    await waitForTask(api, family.running, (t) => t.status === "running");
    await openTask(family.running);
    expect(await page.getByRole("button", { name: "Remove" }).isDisabled()).toBe(true);
    await page.getByText("Only a queued task that has not started can be removed; stop it instead.").waitFor();

    await openTask(family.queued);
    await waitForStatus(page, "queued");
    await page.getByRole("button", { name: "Remove" }).click();
    await waitForStatus(page, "cancelled");
    await page.getByTestId("task-timeline").getByText("removed by user").waitFor();
    expect((await storedTask(app, family.queued))?.status).toBe("cancelled");
  });

  it("sends a message to a running conversation, which plays it after its turn, then ends the conversation", async () => {
    const { page } = owner;
    const taskId = await createTask(
      scriptPrompt("Let us talk.", [{ say: "thinking it over" }, { sleep: 4000 }, { say: "first turn done" }]),
      "conversation",
    );
    await openTask(taskId);
    const log = page.getByTestId("task-event-log");
    await log.locator('[data-type="agent_text"]').getByText("thinking it over").waitFor({ timeout: 60_000 });
    await waitForStatus(page, "running");

    await page.getByLabel("Message", { exact: true }).fill(scriptPrompt("One more thing.", [{ say: "second answer" }]));
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("Sent.").waitFor();
    // The message reached the agent and was played after the first turn, in order.
    await log
      .locator('[data-type="user_message"] [data-source="user"]')
      .getByText(/One more thing\./)
      .waitFor();
    await log.locator('[data-type="agent_text"]').getByText("second answer").waitFor({ timeout: 60_000 });
    const texts = await log.locator('[data-type="agent_text"]').allTextContents();
    expect(texts.findIndex((t) => t.includes("first turn done"))).toBeLessThan(
      texts.findIndex((t) => t.includes("second answer")),
    );
    await waitForStatus(page, "awaiting_followup");

    await page.getByRole("button", { name: "End conversation" }).click();
    await page.getByRole("button", { name: "End it" }).click();
    // A conversation has nothing to deliver: ending it completes it.
    await waitForStatus(page, "completed");
    await page.getByTestId("task-timeline").getByText("stopped by user: ended by the user").waitFor();
    expect(await page.getByLabel("Message", { exact: true }).count()).toBe(0);
  });

  it("a second user without membership gets 404 for the task page and cannot act on the task", async () => {
    const outsider = await signInWithLink(browser, await mintLoginLink(app, "outsider@example.com"), app.baseUrl);
    try {
      const target = family.other;
      const before = await storedTask(app, target);
      expect(before?.status).toBe("queued");

      const page = await outsider.page.goto(`${app.baseUrl}/projects/${projectId}/tasks/${target}`);
      expect(page?.status()).toBe(404);
      expect(await outsider.page.content()).not.toContain("Also later");

      for (const [route, body] of [
        ["stop", { reason: "mine now" }],
        ["retry", {}],
        ["remove", {}],
        ["messages", { text: "let me in" }],
      ] as const) {
        const res = await outsider.context.request.post(`${app.baseUrl}/api/tasks/${target}/${route}`, { data: body });
        expect(res.status(), route).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
      }

      // The page's own server action, as the owner's browser sends it, replayed with the outsider's
      // session: refused as not found. The same request from the owner then does remove the task.
      const { page: ownerPage } = owner;
      await openTask(target, ownerPage);
      let captured: { url: string; headers: Record<string, string>; body: Buffer } | undefined;
      await ownerPage.route("**/*", async (route) => {
        const request = route.request();
        if (request.method() === "POST" && request.headers()["next-action"]) {
          const headers = { ...request.headers() };
          delete headers.cookie;
          captured = { url: request.url(), headers, body: request.postDataBuffer() ?? Buffer.alloc(0) };
          await route.abort();
        } else {
          await route.continue();
        }
      });
      await ownerPage.getByRole("button", { name: "Remove" }).click();
      await expect.poll(() => captured).toBeDefined();
      await ownerPage.unroute("**/*");
      const replay = (session: BrowserSession) =>
        session.context.request.post(captured!.url, { headers: captured!.headers, data: captured!.body });

      const refused = await replay(outsider);
      expect(await refused.text()).toContain("Task not found");
      const after = await storedTask(app, target);
      expect(after?.status).toBe("queued");
      expect(after?.updatedAt).toEqual(before?.updatedAt);

      const accepted = await replay(owner);
      expect(await accepted.text()).toContain("Removed: the task will not run.");
      expect((await storedTask(app, target))?.status).toBe("cancelled");
    } finally {
      await outsider.context.close();
    }
  });

  it("says so when the agent's node does not answer; the message waits in the inbox until the node takes it", async () => {
    const { page } = owner;
    await waitForTask(api, family.running, (t) => t.status === "running");
    await openTask(family.running);
    const running = await storedTask(app, family.running);
    const db = openAppDb(app);
    const node = await db.query.nodes.findFirst({ where: eq(nodes.id, running!.nodeId!) });
    db.$client.close();
    // The node's daemon hangs (paused, not dead): its task still runs, but it answers nothing.
    const { pid } = JSON.parse(node!.providerRef!) as { pid: number };
    process.kill(pid, "SIGSTOP");
    try {
      await page.getByLabel("Message", { exact: true }).fill("are you there?");
      await page.getByRole("button", { name: "Send" }).click();
      await page
        .getByTestId("message-pending")
        .getByText(
          "The agent's node did not answer; the message waits and is delivered once the node is reachable again.",
        )
        .waitFor();
      expect(await inbox(family.running)).toEqual([{ body: "are you there?", delivered: false }]);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    // Back on its feet, the node takes the message from the inbox (behind the agent's current turn).
    await expect
      .poll(() => inbox(family.running), { timeout: 30_000 })
      .toEqual([{ body: "are you there?", delivered: true }]);
  });

  /** What waits, or waited, in a task's inbox. */
  async function inbox(taskId: string) {
    const db = openAppDb(app);
    try {
      const rows = await db.query.inboxMessages.findMany({ where: eq(inboxMessages.taskId, taskId) });
      return rows.map((m) => ({ body: m.body, delivered: m.deliveredAt !== null }));
    } finally {
      db.$client.close();
    }
  }
});
