import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Transcript } from "@/lib/chat/transcript";
import { scriptPrompt } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { git, makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { makeTempDir } from "../helpers/temp-dir";

const SCREENSHOTS = path.resolve("test-results/screenshots");

async function createProject(session: BrowserSession, baseUrl: string, repo: string): Promise<string> {
  const res = await session.context.request.post(`${baseUrl}/api/projects`, { data: { repo } });
  expect(res.status()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Picks what the composer does on send. */
async function chooseMode(page: Page, mode: "Conversation" | "Task") {
  await page.getByRole("radio", { name: mode }).check({ force: true });
}

/** Types a message into the composer and sends it with Enter. */
async function send(page: Page, text: string) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

function sessionIdOf(page: Page): string {
  const match = /\/sessions\/([^/?#]+)/.exec(page.url());
  if (!match?.[1]) throw new Error(`Not on a session page: ${page.url()}`);
  return match[1];
}

/** A prompt whose script may carry subtasks' own scripts: their fences are escaped inside the JSON. */
function nestingScript(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

/** Reloads the page until `target` shows (for state that only a fresh render shows). */
async function reloadUntil(page: Page, target: ReturnType<Page["getByText"]>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while ((await target.count()) === 0) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${target}`);
    await new Promise((r) => setTimeout(r, 1000));
    await page.reload();
  }
}

/** Text in the agent's replies (the user's message holds the script, so it has the same words). */
const agentSays = (page: Page, text: string) =>
  page.locator('[data-testid="chat-message"][data-role="assistant"]').getByText(text);

const messages = (page: Page) => page.getByTestId("chat-messages").getByTestId("chat-message");

describe("the project chat, against the real app and scripted agents", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  const repos = makeTempDir("sam-chat-repos-");
  let repo: string;
  let projectId: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      // Conversations waiting for follow-up keep their place on the node; these tests leave several.
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500", SAM_NODE_CAPACITY: "16" } }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    repo = makeGitRepo(path.join(repos.dir, "chatty"));
    projectId = await createProject(owner, app.baseUrl, repo);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("a conversation streams its reply with a tool card, waits for follow-up, and takes another message", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await page.getByTestId("demo-model-notice").waitFor();
    await chooseMode(page, "Conversation");
    // Shift+Enter is a new line, not a send.
    const box = page.getByLabel("Message", { exact: true });
    await box.fill("draft");
    await box.press("Shift+Enter");
    expect(await box.inputValue()).toBe("draft\n");
    expect(page.url()).toBe(`${app.baseUrl}/projects/${projectId}`);

    await send(
      page,
      scriptPrompt("What is in this repository?", [
        { say: "Let me look." },
        { tool: "write_file", args: { path: "scratch.txt", content: "notes while exploring" } },
        { tool: "list_files", args: {} },
        { sleep: 2500 },
        { say: "It holds a README." },
      ]),
    );
    await page.waitForURL(/\/sessions\//);
    const reply = messages(page).filter({ hasText: "Let me look." });
    await reply.waitFor();
    // The first words are on screen while the agent is still working: the reply streams.
    expect(await page.getByTestId("waiting-for-follow-up").count()).toBe(0);
    expect(await agentSays(page, "It holds a README.").count()).toBe(0);
    const card = reply.locator('[data-testid="chat-tool-call"][data-tool="list_files"]');
    await card.waitFor();
    await agentSays(page, "It holds a README.").waitFor({ timeout: 30_000 });
    expect(await card.getAttribute("data-status")).toBe("done");
    await card.locator("summary").click();
    expect(await card.textContent()).toContain("README.md");
    await page.getByTestId("waiting-for-follow-up").waitFor();
    expect(await page.getByTestId("session-title").textContent()).toBe("What is in this repository?");

    await send(page, scriptPrompt("And the license?", [{ say: "There is no license file." }]));
    await agentSays(page, "There is no license file.").waitFor({ timeout: 30_000 });
    await page.getByTestId("waiting-for-follow-up").waitFor();
    expect(await messages(page).count()).toBe(4);
    // A conversation never pushes: the repository has no branch for it.
    expect(git(repo, "branch", "--list", "sam/*")).toBe("");

    // The user can end it from the chat.
    await page.getByRole("button", { name: "End conversation" }).click();
    await page.getByRole("button", { name: "End it" }).click();
    await page.locator('[data-testid="session-status"] [data-status="completed"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("composer-disabled-reason").textContent()).toContain("ended");
    // Ending it saved and pushed nothing either.
    expect(git(repo, "branch", "--list", "sam/*")).toBe("");
  });

  it("remembers the composer's mode for the user", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    // The choice is saved by a server action (waited for from before the click, which may answer at
    // once); the reload shows what was stored.
    const saved = () =>
      page.waitForResponse((res) => res.request().method() === "POST" && res.url().includes(`/projects/`));
    let saving = saved();
    await chooseMode(page, "Task");
    await saving;
    await page.reload();
    expect(await page.getByRole("radio", { name: "Task" }).isChecked()).toBe(true);
    saving = saved();
    await chooseMode(page, "Conversation");
    await saving;
    await page.reload();
    expect(await page.getByRole("radio", { name: "Conversation" }).isChecked()).toBe(true);
  });

  it("a task sent from the chat moves to completed and shows its pushed branch", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await chooseMode(page, "Task");
    await send(
      page,
      scriptPrompt("Add a greeting file.", [
        { tool: "write_file", args: { path: "greeting.txt", content: "hi\n" } },
        { say: "Greeting written." },
      ]),
    );
    await page.waitForURL(/\/sessions\//);
    await page.locator('[data-testid="session-status"] [data-status="completed"]').waitFor({ timeout: 60_000 });
    await agentSays(page, "Greeting written.").waitFor();
    await page.getByTestId("work-saved").waitFor();
    const branch = (await page.getByTestId("session-branch").textContent())?.trim() ?? "";
    expect(branch).toMatch(/^sam\/add-a-greeting-file-[0-9a-f]{8}$/);
    expect(git(repo, "show", `${branch}:greeting.txt`)).toBe("hi");
    expect(await page.getByTestId("composer-disabled-reason").textContent()).toContain("ended");
  });

  it("a reload in the middle of a turn resumes it: the transcript equals the stored one, nothing doubled", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await chooseMode(page, "Conversation");
    await send(
      page,
      scriptPrompt("Tell me slowly.", [
        { say: "Part one." },
        { tool: "shell", args: { command: "echo tool-ran" } },
        { sleep: 4000 },
        { say: "Part two." },
      ]),
    );
    await page.waitForURL(/\/sessions\//);
    await agentSays(page, "Part one.").waitFor();
    expect(await agentSays(page, "Part two.").count()).toBe(0);
    await page.reload();
    await agentSays(page, "Part two.").waitFor({ timeout: 30_000 });
    await page.getByTestId("waiting-for-follow-up").waitFor();

    const sessionId = sessionIdOf(page);
    const res = await owner.context.request.get(`${app.baseUrl}/api/chat/${sessionId}/transcript`);
    const stored = (await res.json()) as Transcript;
    const shown = await messages(page).evaluateAll((items) =>
      items.map((li) => ({ role: li.getAttribute("data-role"), text: (li.textContent ?? "").replace(/\s+/g, " ") })),
    );
    expect(shown.map((m) => m.role)).toEqual(stored.messages.map((m) => m.role));
    expect(shown).toHaveLength(2);
    const replyText = shown[1]?.text ?? "";
    expect(replyText.split("Part one.").length - 1).toBe(1);
    expect(replyText.split("Part two.").length - 1).toBe(1);
    expect(await page.locator('[data-testid="chat-tool-call"][data-tool="shell"]').count()).toBe(1);
  });

  it("a second tab on the same session sees a reply it did not ask for", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await chooseMode(page, "Conversation");
    await send(page, scriptPrompt("Hello.", [{ say: "Hello back." }]));
    await page.waitForURL(/\/sessions\//);
    await page.getByTestId("waiting-for-follow-up").waitFor();

    const other = await owner.context.newPage();
    try {
      await other.goto(page.url());
      await agentSays(other, "Hello back.").waitFor();
      await send(page, scriptPrompt("Again.", [{ say: "First words." }, { sleep: 1500 }, { say: "Last words." }]));
      await agentSays(other, "First words.").waitFor({ timeout: 30_000 });
      await agentSays(other, "Last words.").waitFor({ timeout: 30_000 });
      // The other tab shows the user's message too (its stream may bring it after the reply), once.
      await messages(other).filter({ hasText: "Again." }).first().waitFor({ timeout: 30_000 });
      expect(await messages(other).filter({ hasText: "Again." }).count()).toBe(1);
      await expect.poll(() => messages(other).count()).toBe(4);

      // A tab that lacks the message opening the latest turn is not resumed into its reply: it loads
      // the transcript (which shows that message) and resumes from there.
      const stream = (after: number) =>
        owner.context.request.get(`${app.baseUrl}/api/chat/${sessionIdOf(page)}/stream?after=${after}`);
      const stored = (await (
        await owner.context.request.get(`${app.baseUrl}/api/chat/${sessionIdOf(page)}/transcript`)
      ).json()) as Transcript;
      const opening = stored.messages.find((m) => m.role === "user" && JSON.stringify(m.parts).includes("Again."));
      const openingSeq = (opening!.metadata as { seq: number }).seq;
      expect((await stream(openingSeq - 1)).status()).toBe(204);
      expect((await stream(openingSeq)).status()).toBe(200);
    } finally {
      await other.close();
    }
  });

  it("a turn the system starts (a subtask ended) shows in an open chat, marked as a system message", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await chooseMode(page, "Conversation");
    await send(
      page,
      nestingScript("Get a helper on it.", [
        {
          tool: "dispatch_task",
          args: {
            title: "Quick helper",
            description: scriptPrompt("Help.", [{ sleep: 1500 }, { say: "helped" }]),
          },
        },
        { say: "Dispatched; I will hear when it ends." },
      ]),
    );
    await page.waitForURL(/\/sessions\//);
    await page.getByTestId("waiting-for-follow-up").waitFor({ timeout: 30_000 });
    // Nobody types: the child's end reaches the parent's session, which runs a turn on it.
    const note = page.locator('[data-testid="chat-message"][data-role="user"][data-sender="system"]');
    await note.waitFor({ timeout: 60_000 });
    expect(await note.getByTestId("message-sender").textContent()).toBe("SAM");
    expect(await note.textContent()).toContain("Quick helper");
  });

  it("an idea the agent captures shows as a card in the chat and in the session's ideas, also after a reload", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await chooseMode(page, "Conversation");
    await send(
      page,
      scriptPrompt("Let's think about search.", [
        { tool: "create_idea", args: { title: "Cache the search index", content: "Rebuild it nightly." } },
        { say: "Captured that as an idea." },
      ]),
    );
    await page.waitForURL(/\/sessions\//);
    const card = page.getByTestId("chat-messages").getByTestId("idea-inline-card");
    await card.waitFor({ timeout: 30_000 });
    expect(await card.textContent()).toContain("Cache the search index");
    const href = await card.getAttribute("href");
    expect(href).toMatch(new RegExp(`^/projects/${projectId}/ideas/[^/]+$`));
    const panel = page.getByTestId("session-ideas");
    await panel.getByText("Cache the search index").waitFor();

    await page.reload();
    await page.getByTestId("session-ideas").getByText("Cache the search index").waitFor();
    await page.getByTestId("chat-messages").getByTestId("idea-inline-card").waitFor();
    await page.goto(`${app.baseUrl}${href}`);
    await page.getByRole("heading", { name: "Cache the search index" }).waitFor();
  });

  it("renders markdown without running HTML or script links from a message", async () => {
    const { page } = owner;
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const hostile =
      "Look: <img src=x onerror=alert(1)> and [click me](javascript:alert(2)) and <script>alert(3)</script>";
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await chooseMode(page, "Conversation");
    // A ~~~ fence: a ``` inside the script would close the sam-script block early.
    await send(page, scriptPrompt(hostile, [{ say: `Echo: ${hostile}\n\n~~~js\nconst x = 1;\n~~~` }]));
    await page.waitForURL(/\/sessions\//);
    await page.getByTestId("waiting-for-follow-up").waitFor({ timeout: 30_000 });
    const list = page.getByTestId("chat-messages");
    await list.getByText("click me").first().waitFor();
    await list.locator('[data-role="assistant"]').getByText("Echo: Look:").waitFor();
    expect(await list.locator("img").count()).toBe(0);
    expect(await list.locator("[onerror]").count()).toBe(0);
    expect(await list.locator("script").count()).toBe(0);
    expect(await list.locator('a[href^="javascript:"]').count()).toBe(0);
    // Code blocks are highlighted (highlight.js loads with the first one).
    await list.locator("pre code.hljs.language-js .hljs-keyword").first().waitFor();
    // Any real link opens without handing the page over.
    for (const rel of await list.locator("a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("rel")))) {
      expect(rel).toContain("noopener");
    }
    await page.click("body");
    expect(dialogs).toEqual([]);
  });

  it("refuses bad chat input with a clear error, and a non-member gets 404 for a session", async () => {
    const bad = await owner.context.request.post(`${app.baseUrl}/api/chat`, {
      data: { projectId, mode: "conversation", text: "   " },
    });
    expect(bad.status()).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("The message is empty");
    const badMode = await owner.context.request.post(`${app.baseUrl}/api/chat`, {
      data: { projectId, mode: "shout", text: "hi" },
    });
    expect(badMode.status()).toBe(400);
    expect(JSON.stringify(await badMode.json())).toContain("Mode must be conversation or task");

    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await chooseMode(page, "Conversation");
    await send(page, scriptPrompt("Secret plans.", [{ say: "Noted." }]));
    await page.waitForURL(/\/sessions\//);
    const sessionId = sessionIdOf(page);

    const outsider = await signInWithLink(browser, await mintLoginLink(app, "outsider@example.com"), app.baseUrl);
    try {
      const view = await outsider.page.goto(`${app.baseUrl}/projects/${projectId}/sessions/${sessionId}`);
      expect(view?.status()).toBe(404);
      expect(await outsider.page.content()).not.toContain("Secret plans");
      for (const route of [`/api/chat/${sessionId}/transcript`, `/api/chat/${sessionId}/stream`]) {
        const res = await outsider.context.request.get(`${app.baseUrl}${route}`);
        expect(res.status()).toBe(404);
      }
      const post = await outsider.context.request.post(`${app.baseUrl}/api/chat`, {
        data: { projectId, sessionId, mode: "conversation", text: "let me in" },
      });
      expect(post.status()).toBe(404);
    } finally {
      await outsider.context.close();
    }
  });

  it("runs the dispatch example from the composer and shows its subtasks (screenshots at 1280 and 390 px)", async () => {
    const { page } = owner;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    await page.getByRole("button", { name: /Dispatch subtasks, one waiting on another/ }).click();
    expect(await page.getByRole("radio", { name: "Task" }).isChecked()).toBe(true);
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/\/sessions\//);
    const lines = page.locator('[data-testid="orchestration-line"][data-tool="dispatch_task"]');
    await lines.nth(2).waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="orchestration-line"][data-status="done"]').nth(2).waitFor({ timeout: 30_000 });
    const childLink = lines.first().getByRole("link", { name: "Write the data model" });
    expect(await childLink.getAttribute("href")).toMatch(new RegExp(`/projects/${projectId}/tasks/[0-9a-f-]{36}$`));
    // The parent's own session is over once it has dispatched; its page shows the children as they end.
    await reloadUntil(page, page.getByText("3/3 subtasks completed"), 90_000);
    // The sidebar's group for this session, opened to show its subtasks.
    const group = page.getByTestId("project-sidebar").getByTestId("task-group").filter({ hasText: "Split the work" });
    await group.getByText("Show 3 subtasks").click();
    await group.getByTestId("child-task").nth(2).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    // Let the scroll settle before the picture is taken.
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOTS, "chat-1280x800.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(SCREENSHOTS, "chat-1280x800-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SCREENSHOTS, "chat-390x844.png"), fullPage: true });
    expect(fs.statSync(path.join(SCREENSHOTS, "chat-390x844.png")).size).toBeGreaterThan(10_000);
  });
});
