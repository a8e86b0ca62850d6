import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { callToolOk } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";
import { TaskActivity } from "../pages/task-activity";
import { Transcript } from "../pages/transcript";

const SCREENSHOTS = path.resolve("test-results/screenshots");

/** Pictures of a page, light and dark, for people to look at. */
async function snap(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-dark.png`), fullPage });
  await page.emulateMedia({ colorScheme: "light" });
}

describe("every message to an agent is visible, with its sender and whether the agent has it", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  const repos = makeTempDir("sam-messages-repos-");
  let projectId: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "messages")),
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

  async function createTask(prompt: string, mode: "task" | "conversation"): Promise<string> {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  /** A second tab of the owner's, on a session's chat. */
  async function openTranscript(sessionId: string): Promise<{ transcript: Transcript; tab: Page }> {
    const tab = await owner.context.newPage();
    const transcript = new Transcript(tab, app.baseUrl, projectId);
    await transcript.open(sessionId);
    return { transcript, tab };
  }

  it("a message sent from the task page to a running task appears in its transcript and activity marked as sent by the user, pending then delivered", async () => {
    const taskId = await createTask(
      scriptPrompt("Work on the parser.", [{ say: "parsing now" }, { sleep: 12_000 }, { say: "first pass done" }]),
      "conversation",
    );
    const { sessionId } = await waitForTask(api, taskId, (t) => t.status === "running" && t.sessionId !== null);
    const activity = new TaskActivity(owner.page, app.baseUrl, projectId);
    await activity.open(taskId);
    await activity.agentSays("parsing now").waitFor({ timeout: 60_000 });
    const { transcript, tab } = await openTranscript(sessionId!);
    try {
      await transcript.agentSays("parsing now").waitFor();

      // The agent is inside its turn: the message waits for the turn's end, and both views say so.
      await owner.page
        .getByLabel("Message", { exact: true })
        .fill(scriptPrompt("Please add tests too.", [{ say: "adding tests" }]));
      await owner.page.getByRole("button", { name: "Send" }).click();
      await activity.waitForMessage("Please add tests too.", "You", "pending", 8000);
      await transcript.waitForMessage("Please add tests too.", "You", "pending", 8000);
      expect(await transcript.agentSays("first pass done").count()).toBe(0);
      await snap(tab, "messages-pending-chat-1280x800");
      await snap(owner.page, "messages-pending-task-1280", true);

      // The turn ends, the agent takes the message: delivered, in both, once, without a reload.
      await activity.waitForMessage("Please add tests too.", "You", "delivered");
      await transcript.waitForMessage("Please add tests too.", "You", "delivered");
      await transcript.agentSays("adding tests").waitFor({ timeout: 60_000 });
      expect(await transcript.messagesTo("Please add tests too.").count()).toBe(1);
      expect(await activity.log.getByText("Please add tests too.").count()).toBe(1);
      // The task's own prompt is the user's too.
      expect(await transcript.message("Work on the parser.", "You", "delivered").count()).toBe(1);

      // A reload shows the same.
      await tab.reload();
      await transcript.waitForMessage("Please add tests too.", "You", "delivered");
      expect(await transcript.messagesTo("Please add tests too.").count()).toBe(1);
    } finally {
      await tab.close();
    }
  });

  it("a message a parent agent sends with send_message_to_subtask appears in the child's transcript marked with the parent", async () => {
    const parentId = await createTask(scriptPrompt("Plan the grammar work.", [{ say: "planning" }]), "conversation");
    await waitForTask(api, parentId, (t) => t.status === "awaiting_followup");
    const parentTitle = (await api.get<{ title: string }>(`/api/tasks/${parentId}`)).body.title;
    const db = openAppDb(app);
    const token = await mintTaskToken(db, parentId);
    db.$client.close();
    const { taskId: childId } = await callToolOk<{ taskId: string }>(app.baseUrl, token, "dispatch_task", {
      title: "Write the parser",
      mode: "conversation",
      description: scriptPrompt("Parse the input.", [
        { say: "child started" },
        { sleep: 10_000 },
        { say: "child done" },
      ]),
    });
    const { sessionId } = await waitForTask(api, childId, (t) => t.status === "running" && t.sessionId !== null);
    const { transcript, tab } = await openTranscript(sessionId!);
    try {
      await transcript.agentSays("child started").waitFor({ timeout: 60_000 });
      // The child's prompt came from its parent.
      await transcript.waitForMessage("Parse the input.", `Parent task ${parentTitle}`, "delivered");

      await callToolOk(app.baseUrl, token, "send_message_to_subtask", {
        taskId: childId,
        message: scriptPrompt("Use the new grammar.", [{ say: "using the new grammar" }]),
      });
      await transcript.waitForMessage("Use the new grammar.", `Parent task ${parentTitle}`, "pending", 8000);
      await transcript.waitForMessage("Use the new grammar.", `Parent task ${parentTitle}`, "delivered");
      await transcript.agentSays("using the new grammar").waitFor({ timeout: 60_000 });
      expect(await transcript.messagesTo("Use the new grammar.").count()).toBe(1);

      // The child's activity marks it the same way.
      const childActivity = new TaskActivity(tab, app.baseUrl, projectId);
      await childActivity.open(childId);
      await childActivity.waitForMessage("Use the new grammar.", `Parent task ${parentTitle}`, "delivered");
    } finally {
      await tab.close();
    }
  });

  it("the stop warning appears in the stopped task's transcript, marked as SAM's; an agent busy in its turn never read it, and the transcript says so", async () => {
    const taskId = await createTask(
      scriptPrompt("Refactor everything.", [{ say: "refactoring" }, { sleep: 60_000 }]),
      "task",
    );
    const { sessionId } = await waitForTask(api, taskId, (t) => t.status === "running" && t.sessionId !== null);
    const { transcript, tab } = await openTranscript(sessionId!);
    try {
      await transcript.agentSays("refactoring").waitFor({ timeout: 60_000 });
      expect((await api.post(`/api/tasks/${taskId}/stop`, { reason: "wrong approach" })).status).toBeLessThan(300);
      const warning = "You are being stopped (stopped by user: wrong approach)";
      await transcript.messagesTo(warning).filter({ hasText: "SAM" }).waitFor({ timeout: 10_000 });
      // The grace ran out inside the agent's turn, so the warning queued behind it never reached it.
      await transcript.waitForMessage(warning, "SAM", "undelivered");
      await transcript.list.getByTestId("session-finished").getByText("stopped by user: wrong approach").waitFor();
      expect((await waitForTask(api, taskId, isTerminal)).status).toBe("failed");
    } finally {
      await tab.close();
    }
  });

  it("a stop warning to an agent waiting for a message is delivered, and the transcript says so", async () => {
    const taskId = await createTask(scriptPrompt("Chat with me.", [{ say: "ready when you are" }]), "conversation");
    const { sessionId } = await waitForTask(api, taskId, (t) => t.status === "awaiting_followup");
    const { transcript, tab } = await openTranscript(sessionId!);
    try {
      await transcript.agentSays("ready when you are").waitFor();
      expect((await api.post(`/api/tasks/${taskId}/stop`, { reason: "done here" })).status).toBeLessThan(300);
      await transcript.waitForMessage("You are being stopped (stopped by user: done here)", "SAM", "delivered");
      await waitForTask(api, taskId, isTerminal);
    } finally {
      await tab.close();
    }
  });

  it("a sam-script block in the transcript is folded to its step count, and a long message to Show more, until opened", async () => {
    const brief = Array.from({ length: 30 }, (_, i) => `Paragraph ${i + 1} of the brief.`).join("\n\n");
    const taskId = await createTask(
      scriptPrompt(brief, [
        { say: "one" },
        { say: "two" },
        { tool: "shell", args: { command: "true" } },
        { say: "all four steps played" },
      ]),
      "conversation",
    );
    const { sessionId } = await waitForTask(api, taskId, (t) => t.status === "awaiting_followup");
    const { transcript, tab } = await openTranscript(sessionId!);
    try {
      await transcript.agentSays("all four steps played").waitFor();
      const prompt = transcript.messagesTo("Paragraph 1 of the brief.");

      // The long message is folded; its script, at the end, is under the fold.
      const more = transcript.longMessageToggles.first();
      expect(await more.textContent()).toBe("Show more");
      expect(await more.getAttribute("aria-expanded")).toBe("false");
      const body = prompt.getByTestId("long-message");
      const folded = (await body.boundingBox())!.height;
      await more.click();
      expect(await more.textContent()).toBe("Show less");
      expect(await more.getAttribute("aria-expanded")).toBe("true");
      expect((await body.boundingBox())!.height).toBeGreaterThan(folded + 100);

      // The script shows its step count, and its steps once opened.
      const script = transcript.scriptToggles.first();
      expect(await script.textContent()).toContain("Script: 4 steps");
      expect(await script.getAttribute("aria-expanded")).toBe("false");
      const steps = prompt.getByText('"say":"two"');
      expect(await steps.isVisible()).toBe(false);
      await script.click();
      expect(await script.getAttribute("aria-expanded")).toBe("true");
      await steps.waitFor();

      // On a phone the transcript fits the screen.
      await tab.setViewportSize({ width: 390, height: 844 });
      expect(await tab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await more.click();
      await snap(tab, "messages-folded-chat-390x844");

      // Tabbing back into the folded message unfolds it: keyboard focus is never under the fold.
      expect(await more.getAttribute("aria-expanded")).toBe("false");
      await more.focus();
      await tab.keyboard.press("Shift+Tab");
      expect(await more.getAttribute("aria-expanded")).toBe("true");
    } finally {
      await tab.close();
    }
  });
});
