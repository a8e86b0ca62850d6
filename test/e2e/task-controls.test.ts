import path from "node:path";
import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
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
import { ChatComposer } from "../pages/chat-composer";
import { SessionHeader } from "../pages/session-header";
import { TaskPage } from "../pages/task-page";

type Dispatched = { taskId: string; status: string; blockedBy: string[] };

/** A prompt whose script carries subtasks' own scripts: their fences are escaped inside the JSON. */
function nestingScript(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
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
      // Conversations waiting for follow-up keep their place on the node; these tests leave several.
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500", SAM_NODE_CAPACITY: "16" } }),
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
    // The browser's close reports what pages logged; the app stops whatever it said.
    try {
      await browser?.close();
    } finally {
      await app?.stop();
      repos.cleanup();
    }
  });

  async function createTask(prompt: string, mode: "task" | "conversation" = "task"): Promise<string> {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function openTask(taskId: string, page = owner.page): Promise<TaskPage> {
    const view = new TaskPage(page, app.baseUrl, projectId);
    await view.open(taskId);
    return view;
  }

  /** A conversation that said its line and waits for follow-up, with a token to act as its agent. */
  async function parentConversation(title: string) {
    const id = await createTask(scriptPrompt(title, [{ say: "planning" }]), "conversation");
    await waitForTask(api, id, (t) => t.status === "awaiting_followup");
    const db = openAppDb(app);
    const token = await mintTaskToken(db, id);
    db.$client.close();
    const dispatch = (args: Record<string, unknown>) =>
      callToolOk<Dispatched>(app.baseUrl, token, "dispatch_task", args);
    return { id, dispatch };
  }

  it("stops a running task after a confirmation: it fails with the user's reason, shown in the timeline", async () => {
    const taskId = await createTask(scriptPrompt("Work for long.", [{ say: "started working" }, { sleep: 60_000 }]));
    const view = await openTask(taskId);
    // The agent said its line, so it is inside the long sleep now.
    await view.activity.locator('[data-type="agent_text"]').getByText("started working").waitFor({ timeout: 60_000 });
    await view.waitForStatus("running");
    // A running task can be stopped, and nothing else.
    expect(await view.offeredControls()).toEqual(["Stop"]);

    await view.control("Stop").click();
    await view
      .confirmation("Stop")
      .getByText(/gets 1 second to commit its work/)
      .waitFor();
    await view.page.getByLabel("Reason (optional)").fill("wrong approach");
    await view.page.getByRole("button", { name: "Confirm stop" }).click();

    await view.waitForStatus("failed");
    await view.timeline.getByText("stopped by user: wrong approach").waitFor();
    expect(await view.page.getByTestId("task-failure").textContent()).toContain(
      "Stoppedstopped by user: wrong approach",
    );
    // The daemon ended the session with the reason, after saving the work.
    await view.activity
      .locator('[data-type="session_finished"]')
      .getByText("stopped by user: wrong approach")
      .waitFor();
    // Nothing is left to stop: the failed task offers Retry alone.
    await view.control("Stop").waitFor({ state: "detached" });
    expect(await view.offeredControls()).toEqual(["Retry"]);
  });

  it("retries a failed task: a new task, linked both ways by title, is told what went wrong and runs", async () => {
    const { page } = owner;
    const failedId = await createTask('Broken script.\n\n```sam-script\n[{"tool": 42}\n```\n');
    const failed = await waitForTask(api, failedId, isTerminal);
    expect(failed.status).toBe("failed");
    const title = (await api.get<{ title: string }>(`/api/tasks/${failedId}`)).body.title;
    const view = await openTask(failedId);
    await page
      .getByTestId("task-failure")
      .getByText(/agent error/)
      .waitFor();

    await view.startRetry(scriptPrompt("Do it right this time.", [{ say: "the retry works" }]));
    await view.confirmRetry();
    await page.waitForURL((url) => /\/tasks\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(failedId));
    const retryId = page.url().split("/").pop()!;

    // The attempt it retries is named by its title, not its id.
    expect(await view.retryOfLink.textContent()).toBe(title);
    expect(await view.retryOfLink.getAttribute("href")).toBe(`/projects/${projectId}/tasks/${failedId}`);
    const description = (await page.getByTestId("task-description").textContent()) ?? "";
    expect(description).toContain("This is retry 1 of a task that failed");
    expect(description).toContain(`Failure reason: ${failed.failureReason}`);
    expect(description).toContain("From the user:");
    await view.waitForStatus("completed");
    await view.activity.locator('[data-type="agent_text"]').getByText("the retry works").waitFor();
    expect(await storedTask(app, retryId)).toMatchObject({
      retryOfId: failedId,
      lineageId: failedId,
      retryCount: 1,
      parentId: null,
    });

    // The failed task points at its replacement by title and offers no second retry.
    await view.open(failedId);
    expect(await view.retriedAsLink.textContent()).toBe(title);
    expect(await view.retriedAsLink.getAttribute("href")).toBe(`/projects/${projectId}/tasks/${retryId}`);
    expect(await view.offeredControls()).toEqual([]);
  });

  it("shows a parent's subtasks with the edges between them, and removes a queued subtask", async () => {
    const { page } = owner;
    const parent = await parentConversation("Plan the work.");
    family.parent = parent.id;
    family.running = (
      await parent.dispatch({
        title: "Build the base",
        description: scriptPrompt("Base.", [{ say: "base" }, { sleep: 60_000 }]),
      })
    ).taskId;
    const queued = await parent.dispatch({ title: "Use the base", description: "Later.", dependsOn: [family.running] });
    family.queued = queued.taskId;
    family.other = (
      await parent.dispatch({ title: "Also later", description: "Later.", dependsOn: [family.running] })
    ).taskId;
    expect(queued.blockedBy).toEqual([family.running]);

    await openTask(family.parent);
    const children = page.getByTestId("task-children");
    const dependent = children.locator(`[data-testid="task-child"][data-task-id="${family.queued}"]`);
    await dependent.getByText("BLOCKED: Waiting on Build the base").waitFor();
    expect(await dependent.getByTestId("child-dependency").getAttribute("data-depends-on")).toBe(family.running);
    expect(await dependent.getByTestId("child-dependency").textContent()).toMatch(/^waits on Build the base/);

    // The child that others wait on runs: it can be stopped, not removed.
    await waitForTask(api, family.running, (t) => t.status === "running");
    let view = await openTask(family.running);
    await view.waitForStatus("running");
    expect(await view.offeredControls()).toEqual(["Stop"]);
    // Its parent is named by its title.
    expect(await view.parentLink.textContent()).toBe("Plan the work.");
    expect(await view.parentLink.getAttribute("href")).toBe(`/projects/${projectId}/tasks/${family.parent}`);

    view = await openTask(family.queued);
    await view.waitForStatus("queued");
    expect(await view.offeredControls()).toEqual(["Stop", "Remove"]);
    await view.control("Remove").click();
    await view.waitForStatus("cancelled");
    await view.timeline.getByText("removed by user").waitFor();
    expect((await storedTask(app, family.queued))?.status).toBe("cancelled");
  });

  it("sends a message to a running conversation, which plays it after its turn; the conversation shows no branch", async () => {
    const taskId = await createTask(
      scriptPrompt("Let us talk.", [{ say: "thinking it over" }, { sleep: 4000 }, { say: "first turn done" }]),
      "conversation",
    );
    const view = await openTask(taskId);
    const log = view.activity;
    await log.locator('[data-type="agent_text"]').getByText("thinking it over").waitFor({ timeout: 60_000 });
    await view.waitForStatus("running");
    // A conversation saves and pushes nothing: no branch on its page.
    expect(await view.branch.count()).toBe(0);
    // A running conversation is ended, not stopped; ending it is not styled as destroying anything.
    expect(await view.offeredControls()).toEqual(["End conversation"]);

    await view.page
      .getByLabel("Message", { exact: true })
      .fill(scriptPrompt("One more thing.", [{ say: "second answer" }]));
    await view.page.getByRole("button", { name: "Send" }).click();
    await view.page.getByText("Sent.").waitFor();
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
    await view.waitForStatus("awaiting_followup");

    await view.endConversation();
    // A conversation has nothing to deliver: ending it completes it.
    await view.waitForStatus("completed");
    await view.timeline.getByText("stopped by user: ended by the user").waitFor();
    expect(await view.page.getByLabel("Message", { exact: true }).count()).toBe(0);
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
      const replay = (session: BrowserSession) =>
        session.context.request.post(captured!.url, { headers: captured!.headers, data: captured!.body });
      let refused: Awaited<ReturnType<typeof replay>> | undefined;
      await ownerPage.route("**/*", async (route) => {
        const request = route.request();
        if (request.method() === "POST" && request.headers()["next-action"]) {
          const headers = { ...request.headers() };
          delete headers.cookie;
          captured = { url: request.url(), headers, body: request.postDataBuffer() ?? Buffer.alloc(0) };
          // The owner's page gets the answer the outsider's replay got: it shows the refusal.
          refused = await replay(outsider);
          await route.fulfill({ response: refused });
        } else {
          await route.continue();
        }
      });
      await ownerPage.getByRole("button", { name: "Remove" }).click();
      await ownerPage.getByTestId("task-controls").getByText("Task not found").waitFor();
      await ownerPage.unroute("**/*");

      expect(await refused!.text()).toContain("Task not found");
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

  it("a refused retry keeps the typed note and says why (the parent ended while the form was open)", async () => {
    const parent = await parentConversation("Coordinate the fixes.");
    const { taskId: childId } = await parent.dispatch({
      title: "Fix the flaky test",
      description: 'Broken.\n\n```sam-script\n[{"tool": 42}\n```\n',
    });
    await waitForTask(api, childId, (t) => t.status === "failed");
    const view = await openTask(childId);
    await view.waitForStatus("failed");
    // The parent lives: the failed child may be retried.
    expect(await view.offeredControls()).toEqual(["Retry"]);
    const note = "Use the fixed seed this time.";
    await view.startRetry(note);

    // Meanwhile the parent ends; the open form stays as the user left it.
    expect((await api.post(`/api/tasks/${parent.id}/stop`, { reason: "done for today" })).status).toBe(200);
    await waitForTask(api, parent.id, (t) => t.status === "failed");
    await view.confirmRetry();
    await view.retryRefusal
      .getByText(
        `"Fix the flaky test" cannot be retried: its parent task "Coordinate the fixes." has ended (failed), and a new attempt runs only under a live parent`,
      )
      .waitFor();
    expect(await view.retryNote.inputValue()).toBe(note);
    expect(view.page.url()).toMatch(new RegExp(`/tasks/${childId}$`));
    expect(await storedTask(app, childId)).toMatchObject({ status: "failed" });

    // Closed, the form does not come back: Retry is not offered any more, and the page says why.
    await view.page.getByRole("button", { name: "Cancel" }).click();
    await view.retryUnavailable.getByText(/Its parent task has ended \(failed\)/).waitFor();
    expect(await view.offeredControls()).toEqual([]);
  });

  it("a failed subtask whose parent has ended is not offered Retry, and its page says why", async () => {
    const parent = await parentConversation("Try one thing.");
    const { taskId: childId } = await parent.dispatch({
      title: "The one thing",
      description: 'Broken.\n\n```sam-script\n[{"tool": 42}\n```\n',
    });
    await waitForTask(api, childId, (t) => t.status === "failed");
    // The user ends the parent conversation: it completes, and its failed child stays failed.
    expect((await api.post(`/api/tasks/${parent.id}/stop`, {})).status).toBe(200);
    await waitForTask(api, parent.id, isTerminal);

    const view = await openTask(childId);
    await view.waitForStatus("failed");
    expect(await view.offeredControls()).toEqual([]);
    expect(await view.retryUnavailable.textContent()).toMatch(
      /^No retry: Its parent task has ended \((failed|completed)\)/,
    );
    expect(await view.parentLink.textContent()).toBe("Try one thing.");
  });

  it("End conversation warns the busy agent and gives it the grace it announces before the conversation ends", async () => {
    const taskId = await createTask(
      scriptPrompt("Talk at length.", [{ say: "let me think for a long while" }, { sleep: 60_000 }]),
      "conversation",
    );
    const view = await openTask(taskId);
    await view.activity
      .locator('[data-type="agent_text"]')
      .getByText("let me think for a long while")
      .waitFor({ timeout: 60_000 });
    await view.control("End conversation").click();
    await view
      .confirmation("End conversation")
      .getByText(/gets 1 second to wrap up/)
      .waitFor();
    await view.page.getByRole("button", { name: "End it" }).click();
    await view.waitForStatus("completed");
    await view.activity.locator('[data-type="session_finished"]').waitFor();

    // The agent got the warning (as a message from the system) and answered it; then the session ended.
    const events = await view.activityTypes();
    const warned = events.findIndex((e) => e.type === "user_message" && e.source === "system");
    expect(warned, JSON.stringify(events)).toBeGreaterThan(0);
    const warning = view.activity.locator('[data-type="user_message"] [data-source="system"]');
    expect(await warning.textContent()).toMatch(/The user is ending this conversation; it closes in 1 second/);
    const answered = events.findIndex((e, i) => i > warned && e.type === "agent_text");
    const finished = events.findIndex((e) => e.type === "session_finished");
    expect(answered).toBeGreaterThan(warned);
    expect(finished).toBeGreaterThan(answered);
  });

  /** A script that dispatches three subtasks, each waiting on the one before, then ends its turn. */
  function threeSubtasks(text: string, titles: [string, string, string]): string {
    const child = (title: string, dependsOn?: string) => ({
      tool: "dispatch_task",
      args: {
        title,
        description: scriptPrompt(`${title}.`, [{ sleep: 1500 }, { say: `${title} done` }]),
        ...(dependsOn ? { dependsOn: [dependsOn] } : {}),
      },
    });
    // One after another, so the last ends well after the parent's turn.
    return nestingScript(text, [
      child(titles[0]),
      child(titles[1], "{{1.taskId}}"),
      child(titles[2], "{{2.taskId}}"),
      { say: "Three subtasks are on their way." },
      // A parent that writes its plan has a branch to show (one that changes nothing has none).
      { tool: "write_file", args: { path: "plan.txt", content: "three parts\n" } },
    ]);
  }

  /** Marks the document; `notReloaded` is true as long as the page was not loaded again. */
  async function markDocument(page: BrowserSession["page"]) {
    await page.evaluate(() => {
      (window as unknown as { notReloaded?: boolean }).notReloaded = true;
    });
    return () => page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true);
  }

  it("the header's subtask progress reaches 3/3 without a reload after the parent's turn ended", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    const notReloaded = await markDocument(page);
    await page.getByRole("radio", { name: "Conversation" }).check({ force: true });
    const composer = new ChatComposer(page);
    await composer.type(threeSubtasks("Split it in three.", ["First part", "Second part", "Third part"]));
    await composer.pressEnter();
    await page.waitForURL(/\/sessions\//);
    const header = new SessionHeader(page);

    // The parent's turn ends while its subtasks still work.
    await page.locator('[data-testid="session-status"] [data-status="awaiting_followup"]').waitFor({ timeout: 60_000 });
    await header.subtasks.waitFor();
    expect(await header.subtasks.textContent()).toMatch(/^[0-2]\/3 subtasks completed$/);

    await header.waitForSubtasks(3, 3);
    expect(await notReloaded()).toBe(true);
    // A conversation shows no branch, in its header or in its sidebar card.
    expect(await header.branch.count()).toBe(0);
    const group = page.getByTestId("task-group").filter({ hasText: "Split it in three." });
    await group.waitFor();
    expect(await group.getByTestId("task-group-branch").count()).toBe(0);
  });

  it("a task's header shows it waiting for its subtasks, follows them to 3/3, then shows it completed, without a reload", async () => {
    const { page } = owner;
    const parentId = await createTask(threeSubtasks("Hand it all out.", ["Part A", "Part B", "Part C"]));
    const { sessionId } = await waitForTask(api, parentId, (t) => t.sessionId !== null);
    await page.goto(`${app.baseUrl}/projects/${projectId}/sessions/${sessionId}`);
    const notReloaded = await markDocument(page);
    const header = new SessionHeader(page);
    // The parent's turn ends once it has dispatched: it waits for its subtasks, and completes after them.
    await page.locator('[data-testid="session-status"] [data-status="awaiting_subtasks"]').waitFor({ timeout: 60_000 });
    expect(await header.subtasks.textContent()).toMatch(/^[0-2]\/3 subtasks completed$/);
    await header.waitForSubtasks(3, 3);
    await page.locator('[data-testid="session-status"] [data-status="completed"]').waitFor({ timeout: 60_000 });
    expect(await notReloaded()).toBe(true);
    // A task does show its branch.
    expect(await header.branch.textContent()).toMatch(/^sam\//);
    await page
      .locator(`[data-testid="task-group"][data-task-id="${parentId}"]`)
      .getByTestId("task-group-branch")
      .waitFor();
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
