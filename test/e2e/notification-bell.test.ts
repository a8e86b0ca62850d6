import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotificationFrame } from "@/components/notifications/notification-json";
import type { Db } from "@/db/client";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { notify } from "@/lib/notifications/notify";
import { addMember, removeMember } from "@/lib/projects/projects";
import { ensureInstanceOwner, findUserByEmail } from "@/lib/users";
import { until } from "../../agent-daemon/test/fake-web";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { seriousAxeViolations } from "../helpers/axe";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { createProject } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";
import { NotificationBellUi } from "../pages/notification-bell";
import { NotificationPrefsPage } from "../pages/notification-prefs-page";

/** The fields the issue names for GET /api/notifications and `sam notifications --json`. */
const ISSUE_FIELDS = ["id", "kind", "projectId", "taskId", "title", "body", "createdAt", "updatedAt", "readAt"];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Listed {
  id: string;
  kind: string;
  projectId: string;
  taskId: string | null;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  readAt: string | null;
}

const BOB = "bob@example.com";

describe("the notification bell: live unread count, list, mark read, preferences, browser notifications", () => {
  const repos = makeTempDir("sam-bell-repos-");
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let bob: BrowserSession;
  let api: ApiClient;
  let bobToken: string;
  let db: Db;
  let ownerId: string;
  let bobId: string;
  // "Shared": the owner and Bob are members. "Private": only the owner.
  let shared: string;
  let privateProject: string;

  const asBob = (route: string, init: RequestInit = {}) =>
    fetch(`${app.baseUrl}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${bobToken}`, "content-type": "application/json", ...init.headers },
    });

  /** Bob's notification stream read with his personal token, its frames collected as they come. */
  function bobsStream() {
    const stop = new AbortController();
    const frames: NotificationFrame[] = [];
    const reading = (async () => {
      const res = await fetch(`${app.baseUrl}/api/notifications/stream`, {
        headers: { authorization: `Bearer ${bobToken}` },
        signal: stop.signal,
      });
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      let buffered = "";
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        buffered += next.value;
        for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data && /^event: notifications$/m.test(block)) frames.push(JSON.parse(data) as NotificationFrame);
        }
      }
    })().catch((err: Error) => {
      if (!stop.signal.aborted) throw err;
    });
    return {
      frames,
      /** Waits for a frame that `holds`. */
      until: (holds: (f: NotificationFrame) => boolean) => until(() => frames.some(holds), 30_000),
      close: async () => {
        stop.abort();
        await reading;
      },
    };
  }

  /** A task-mode root task playing `steps`, queued; the scheduler runs it. */
  async function startTask(projectId: string, title: string, steps: unknown[]): Promise<string> {
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      title,
      prompt: scriptPrompt(`${title}.`, steps),
      mode: "task",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  }

  /** A task that says one thing and completes (after `before`): the real flow that raises task_completed. */
  async function completeTask(projectId: string, title: string, before: unknown[] = []): Promise<string> {
    const id = await startTask(projectId, title, [
      ...before,
      { say: "Done." },
      { tool: "complete_task", args: { summary: `${title}: done` } },
    ]);
    const task = await waitForTask(api, id, isTerminal);
    expect(task.status, task.failureReason ?? "").toBe("completed");
    return task.id;
  }

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } }),
      launchBrowser(),
    ]);
    api = await ownerApi(app);
    db = openAppDb(app);
    ownerId = (await ensureInstanceOwner(db)).id;
    const bobLink = await mintLoginLink(app, BOB);
    bobId = (await findUserByEmail(db, BOB)).id;
    bobToken = (await mintPersonalToken(db, bobId, { name: "bob's script" })).token;
    shared = await createProject(api, makeGitRepo(path.join(repos.dir, "shared"), { files: { "README.md": "# s\n" } }));
    privateProject = await createProject(
      api,
      makeGitRepo(path.join(repos.dir, "private"), { files: { "README.md": "# p\n" } }),
    );
    await addMember(db, ownerId, shared, { email: BOB, role: "member" });
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    bob = await signInWithLink(browser, bobLink, app.baseUrl);
  });
  afterAll(async () => {
    db?.$client.close();
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("the bell's count rises live in an open page when a task completes; a non-member of the project sees none of its notifications, in the API or the bell", async () => {
    const ownerBell = new NotificationBellUi(owner.page);
    const bobBell = new NotificationBellUi(bob.page);
    await Promise.all([owner.page.goto(`${app.baseUrl}/projects`), bob.page.goto(`${app.baseUrl}/projects`)]);
    await Promise.all([ownerBell.waitForCount(0), bobBell.waitForCount(0)]);
    const stream = bobsStream();
    await stream.until((f) => f.unread === 0);

    const shownAt = ownerBell.whenCountShows(1);
    const sharedTask = await completeTask(shared, "Tidy the README");
    // No reload: the open pages hear it over the stream.
    await Promise.all([ownerBell.waitForCount(1), bobBell.waitForCount(1)]);
    const [written] = (await api.get<Listed[]>("/api/notifications")).body;
    console.log(
      `the bell showed the notification ${(await shownAt) - Date.parse(written!.createdAt)} ms after it was written`,
    );

    const privateTask = await completeTask(privateProject, "Rotate the keys");
    await ownerBell.waitForCount(2);

    // Bob is no member of the private project: his list, his count and a fresh page know only the shared one.
    const bobList = (await (await asBob("/api/notifications")).json()) as Listed[];
    expect(bobList.map((n) => [n.projectId, n.taskId, n.kind])).toEqual([[shared, sharedTask, "task_completed"]]);
    await bob.page.reload();
    await bobBell.waitForCount(1);
    await bobBell.open();
    expect(await bobBell.items()).toEqual([{ title: "Task completed: Tidy the README", unread: true }]);
    await bob.page.keyboard.press("Escape");

    // Attacks with the owner's private notification id: Bob can neither mark it read nor page from it.
    const ownerList = (await api.get<Listed[]>("/api/notifications")).body;
    expect(ownerList.map((n) => n.taskId)).toEqual([privateTask, sharedTask]);
    const ownersPrivate = ownerList[0]!;
    const marked = await asBob("/api/notifications/read", {
      method: "POST",
      body: JSON.stringify({ ids: [ownersPrivate.id] }),
    });
    expect(await marked.json()).toEqual({ marked: 0 });
    expect((await asBob(`/api/notifications?before=${ownersPrivate.id}`).then((r) => r.json())) as unknown[]).toEqual(
      [],
    );
    const prefs = await asBob("/api/notifications/prefs", {
      method: "PUT",
      body: JSON.stringify({ prefs: [{ projectId: privateProject, kind: "task_failed", enabled: false }] }),
    });
    expect(prefs.status).toBe(404);
    expect((await api.get<Listed[]>("/api/notifications?unread=1")).body.length).toBe(2);

    // Someone removed from a project no longer sees its notifications, even the ones raised before.
    await removeMember(db, ownerId, shared, bobId);
    expect(await (await asBob("/api/notifications")).json()).toEqual([]);
    await bob.page.reload();
    await bobBell.waitForCount(0);
    await addMember(db, ownerId, shared, { email: BOB, role: "member" });

    // Bob's stream, open all along, carried his shared notification and his own read of it, never the private one.
    await stream.until((f) => f.notifications.some((n) => n.taskId === sharedTask));
    await stream.until((f) => f.unread === 1);
    const read = await asBob("/api/notifications/read", { method: "POST", body: JSON.stringify({ all: true }) });
    expect(await read.json()).toEqual({ marked: 1 });
    await stream.until((f) => f.unread === 0 && f.notifications.some((n) => n.taskId === sharedTask && n.readAt));
    await stream.close();
    const streamed = stream.frames.flatMap((f) => f.notifications);
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.filter((n) => n.projectId !== shared || n.taskId === privateTask)).toEqual([]);
  });

  it("opening a notification goes to its task and marks it read; Mark all read clears the count", async () => {
    const bell = new NotificationBellUi(owner.page);
    const before = await bell.count();
    expect(before).toBe(2);
    const list = await bell.open();
    const items = await bell.items();
    expect(items).toEqual([
      { title: "Task completed: Rotate the keys", unread: true },
      { title: "Task completed: Tidy the README", unread: true },
    ]);
    await list.getByText("Tidy the README: done").waitFor();
    const sharedItem = (await api.get<Listed[]>("/api/notifications")).body.find((n) => n.projectId === shared)!;
    await bell.openItem("Tidy the README");
    await owner.page.waitForURL(`${app.baseUrl}/projects/${shared}/tasks/${sharedItem.taskId}`);
    await bell.waitForCount(1);
    const afterClick = (await api.get<Listed[]>("/api/notifications")).body.find((n) => n.id === sharedItem.id)!;
    expect(afterClick.readAt).toMatch(ISO);

    await bell.open();
    await bell.markAllRead();
    await bell.waitForCount(0);
    expect((await api.get<Listed[]>("/api/notifications?unread=1")).body).toEqual([]);
    expect((await bell.items()).map((i) => i.unread)).toEqual([false, false]);
    // A fresh page agrees: the count came from the server, not only from the page's own bookkeeping.
    await owner.page.reload();
    await bell.waitForCount(0);
  });

  it("a task's progress reports show in the open list as one notification holding the last report, beside its completion", async () => {
    const bell = new NotificationBellUi(owner.page);
    const start = await countOf(api);
    await bell.waitForCount(start);
    await bell.open();
    const taskId = await completeTask(shared, "Write the guide", [
      { tool: "update_task_status", args: { message: "Outline written" } },
      { tool: "update_task_status", args: { message: "Examples added", percent: 80 } },
    ]);
    await bell.waitForCount(start + 2);
    // The list stayed open: the new notifications came in over the stream.
    await bell.item("Write the guide: progress").getByText("80% — Examples added").waitFor();
    expect((await bell.items()).slice(0, 2)).toEqual([
      { title: "Task completed: Write the guide", unread: true },
      { title: "Write the guide: progress", unread: true },
    ]);
    const ofTask = (await api.get<Listed[]>("/api/notifications")).body.filter((n) => n.taskId === taskId);
    expect(ofTask.map((n) => [n.kind, n.body])).toEqual([
      ["task_completed", "Write the guide: done"],
      ["progress", "80% — Examples added"],
    ]);
    await bell.markAllRead();
    await bell.waitForCount(0);
    await owner.page.keyboard.press("Escape");
  });

  it("GET /api/notifications?unread=1 with a personal token and `sam notifications --unread --json` give the same array of the issue's fields; a bad query is refused naming it", async () => {
    const bobUnread = ((await (await asBob("/api/notifications?unread=1")).json()) as Listed[]).length;
    expect(bobUnread).toBeGreaterThan(0);
    const all = await asBob("/api/notifications/read", { method: "POST", body: JSON.stringify({ all: true }) });
    expect(await all.json()).toEqual({ marked: bobUnread });
    const taskId = await completeTask(shared, "Add a changelog");
    const res = await asBob("/api/notifications?unread=1");
    expect(res.status).toBe(200);
    const unread = (await res.json()) as Listed[];
    expect(unread).toHaveLength(1);
    const [n] = unread;
    for (const field of ISSUE_FIELDS) expect(n).toHaveProperty(field);
    expect(n).toMatchObject({ kind: "task_completed", projectId: shared, taskId, readAt: null });
    expect(n!.title).toBe("Task completed: Add a changelog");
    expect(n!.createdAt).toMatch(ISO);
    expect(n!.updatedAt).toMatch(ISO);

    const env = { SAM_DATA_DIR: app.dataDir };
    const cli = await runSam(["notifications", "--unread", "--json", "--user", BOB], env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual(unread);

    for (const [query, field] of [
      ["unread=yes", "unread"],
      ["limit=0", "limit"],
      ["colour=red", "colour"],
    ] as const) {
      const bad = await asBob(`/api/notifications?${query}`);
      expect(bad.status).toBe(400);
      const { error } = (await bad.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("invalid_input");
      expect(error.message).toContain(field);
    }
    expect((await fetch(`${app.baseUrl}/api/notifications`)).status).toBe(401);
    expect((await asBob("/api/notifications/read", { method: "POST", body: "{}" })).status).toBe(400);

    // The bell's poll: the count (and what changed just before), then what changed after a cursor; a bad cursor is named.
    const first = (await (await asBob("/api/notifications/changes")).json()) as NotificationFrame;
    expect(first.unread).toBe(1);
    const since = (await (
      await asBob(`/api/notifications/changes?after=${first.cursor - 60_000}`)
    ).json()) as NotificationFrame;
    expect(since.notifications.map((c) => c.id)).toContain(n!.id);
    for (const query of ["after=soon", "after=-1", "before=1"]) {
      const bad = await asBob(`/api/notifications/changes?${query}`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/after|before/);
    }
    expect((await fetch(`${app.baseUrl}/api/notifications/changes`)).status).toBe(401);

    const unknown = await runSam(["notifications", "--colour"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option --colour");
    const read = await runSam(["notifications", "read", n!.id, "--user", BOB, "--json"], env);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({ marked: 1 });
    expect(await (await asBob("/api/notifications?unread=1")).json()).toEqual([]);
  });

  it("turning a kind off for a project in the preferences stops new ones of it for that person only", async () => {
    const prefsPage = new NotificationPrefsPage(bob.page, app.baseUrl);
    await prefsPage.open();
    const sharedName = "shared";
    expect(await prefsPage.isOn("Task completed", sharedName)).toBe(true);
    await prefsPage.set("Task completed", sharedName, false);
    const saved = (await (await asBob("/api/notifications/prefs")).json()) as {
      projects: { projectId: string; kinds: Record<string, boolean> }[];
    };
    expect(saved.projects.map((p) => p.projectId)).toEqual([shared]);
    expect(saved.projects[0]!.kinds).toMatchObject({ task_completed: false, task_failed: true, needs_input: true });
    await bob.page.reload();
    expect(await prefsPage.isOn("Task completed", sharedName)).toBe(false);
    expect(await seriousAxeViolations(bob.page)).toEqual([]);

    const bobBefore = ((await (await asBob("/api/notifications")).json()) as Listed[]).length;
    const ownerBell = new NotificationBellUi(owner.page);
    const ownerUnread = await countOf(api);
    await ownerBell.waitForCount(ownerUnread);
    const taskId = await completeTask(shared, "Fix the typo");
    // Every copy of an event is written in one statement batch: once the owner's shows, Bob's would have.
    await ownerBell.waitForCount(ownerUnread + 1);
    const bobAfter = (await (await asBob("/api/notifications")).json()) as Listed[];
    expect(bobAfter).toHaveLength(bobBefore);
    expect(bobAfter.some((n) => n.taskId === taskId)).toBe(false);

    const badKind = await asBob("/api/notifications/prefs", {
      method: "PUT",
      body: JSON.stringify({ prefs: [{ projectId: shared, kind: "gossip", enabled: false }] }),
    });
    expect(badKind.status).toBe(400);
    expect(((await badKind.json()) as { error: { message: string } }).error.message).toContain("prefs.0.kind");
    await prefsPage.set("Task completed", sharedName, true);
  });

  it("a notification written by another process (no bus event reaches this server) still gets to the open bell, by polling", async () => {
    const bell = new NotificationBellUi(owner.page);
    const start = await countOf(api);
    await bell.waitForCount(start);
    const shownAt = bell.whenCountShows(start + 1);
    // The test process is another instance as far as the server is concerned: its bus is not the server's.
    const raised = await notify(db, {
      kind: "pr_merged",
      projectId: shared,
      title: "Merged elsewhere",
      dedupKey: `test:other-instance:${Date.now()}`,
    });
    expect(raised).not.toBeNull();
    const [written] = (await api.get<Listed[]>("/api/notifications")).body;
    expect(written!.title).toBe("Merged elsewhere");
    console.log(
      `polling brought it to the bell ${(await shownAt) - Date.parse(written!.createdAt)} ms after it was written`,
    );
  });

  it("with permission granted, a notification arriving in an open page is shown by the browser: questions always, other kinds once asked for", async () => {
    const context = await browser.newContext();
    // Record every `new Notification(...)` the page makes, on top of the browser's own.
    await context.addInitScript(() => {
      const shown: { title: string; body?: string; tag?: string }[] = [];
      (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
      const Native = window.Notification;
      class Recorded extends Native {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body, tag: options?.tag });
        }
      }
      window.Notification = Recorded;
    });
    const page = await context.newPage();
    await page.goto(await mintLoginLink(app));
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${app.baseUrl}/projects`);
    const shown = () =>
      page.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications);
    const bell = new NotificationBellUi(page);
    await bell.waitForCount(await countOf(api));
    await bell.open();
    await context.grantPermissions(["notifications"], { origin: app.baseUrl });
    await bell.enableBrowserNotifications();
    await bell
      .list()
      .getByRole("checkbox", { name: /every kind/ })
      .waitFor();

    const shownCount = (n: number) =>
      page.waitForFunction(
        (n) => (window as unknown as { shownNotifications: unknown[] }).shownNotifications.length >= n,
        n,
      );
    const notificationOf = async (taskId: string) =>
      (await api.get<Listed[]>("/api/notifications")).body.find((n) => n.taskId === taskId)!;

    // A question is high urgency: shown at once, without asking for every kind.
    const start = await countOf(api);
    const asking = await startTask(shared, "Pick a licence", [
      { tool: "request_human_input", args: { question: "Which licence?", options: ["MIT", "Apache-2.0"] } },
      { say: "Waiting for the answer." },
    ]);
    await shownCount(1);
    expect(await shown()).toEqual([
      {
        title: "Needs your answer: Pick a licence",
        body: "shared · Which licence?\nOptions: MIT / Apache-2.0",
        tag: (await notificationOf(asking)).id,
      },
    ]);
    await bell.waitForCount(start + 1);

    // A completion is of normal urgency: not shown until the person asks for every kind.
    await completeTask(shared, "Update the licence");
    await bell.waitForCount(start + 2);
    expect(await shown()).toHaveLength(1);

    await bell.showEveryKindInBrowser();
    const taskId = await completeTask(shared, "Bump the version");
    await shownCount(2);
    expect((await shown())[1]).toEqual({
      title: "Task completed: Bump the version",
      body: "shared · Bump the version: done",
      tag: (await notificationOf(taskId)).id,
    });
    await context.close();
  });

  it("the tabs of one browser share one poll and hold no connection open: every bell rises live, the browser shows a notification once, and another tab takes over when the polling one closes", async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      const shown: string[] = [];
      (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
      const Native = window.Notification;
      window.Notification = class extends Native {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push(title);
        }
      };
    });
    await context.grantPermissions(["notifications"], { origin: app.baseUrl });
    // Which tabs poll, and whether any opens the notification stream (a connection held open).
    const pollers = new Set<Page>();
    let streamed = 0;
    context.on("request", (request) => {
      const { pathname } = new URL(request.url());
      if (pathname === "/api/notifications/changes") pollers.add(request.frame().page());
      if (pathname === "/api/notifications/stream") streamed++;
    });
    const first = await context.newPage();
    await first.goto(await mintLoginLink(app));
    await first.getByRole("button", { name: "Sign in" }).click();
    await first.waitForURL(`${app.baseUrl}/projects`);
    const second = await context.newPage();
    await second.goto(`${app.baseUrl}/projects`);
    const bells = [new NotificationBellUi(first), new NotificationBellUi(second)];
    const start = await countOf(api);
    await Promise.all(bells.map((bell) => bell.waitForCount(start)));
    expect([...pollers]).toEqual([first]);

    await startTask(shared, "Choose a name", [
      { tool: "request_human_input", args: { question: "Which name?" } },
      { say: "Waiting." },
    ]);
    await Promise.all(bells.map((bell) => bell.waitForCount(start + 1)));
    const shownIn = (page: Page) =>
      page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications);
    await until(async () => (await shownIn(first)).length + (await shownIn(second)).length > 0, 30_000);
    expect({ first: await shownIn(first), second: await shownIn(second) }).toEqual({
      first: ["Needs your answer: Choose a name"],
      second: [],
    });

    expect([...pollers]).toEqual([first]);

    // The polling tab closes: the other one takes over and stays live.
    await first.close();
    await until(() => pollers.has(second), 30_000);
    await completeTask(shared, "Name chosen");
    await bells[1]!.waitForCount(start + 2);
    expect(streamed).toBe(0);
    await context.close();
  });

  it("the bell, its list and the preferences page fit a 390 px wide phone screen and pass axe", async () => {
    const page: Page = owner.page;
    await page.setViewportSize({ width: 390, height: 844 });
    const bell = new NotificationBellUi(page);
    // A project's header also has the menu button: the widest header there is.
    await page.goto(`${app.baseUrl}/projects/${shared}`);
    await bell.waitForCount(await countOf(api));
    expect(await page.getByTestId("app-header").evaluate((el) => el.scrollWidth)).toBeLessThanOrEqual(390);
    await page.goto(`${app.baseUrl}/projects`);
    await bell.waitForCount(await countOf(api));
    const list = await bell.open();
    const box = (await list.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.resolve("test-results/screenshots/notification-bell-390.png") });

    // The list's Preferences link leads to the grid, which scrolls inside its own box on a phone.
    await list.getByRole("link", { name: "Preferences" }).click();
    await page.waitForURL(`${app.baseUrl}/account/notifications`);
    const prefsPage = new NotificationPrefsPage(page, app.baseUrl);
    await page.getByRole("table", { name: "Notifications by project and kind" }).waitFor();
    expect(await prefsPage.isOn("Needs input", "private")).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.resolve("test-results/screenshots/notification-prefs-390.png") });
  });
});

async function countOf(api: ApiClient): Promise<number> {
  return (await api.get<unknown[]>("/api/notifications?unread=1")).body.length;
}
