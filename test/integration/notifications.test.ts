import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, openDb } from "@/db/client";
import { notificationEvents, notificationPrefs, notifications, projectMembers } from "@/db/schema";
import { type NotificationsChanged, onNotificationsChanged } from "@/lib/events/bus";
import { notify, notifyProgress, PROGRESS_WINDOW_MS } from "@/lib/notifications/notify";
import { notifyTaskEnded } from "@/lib/notifications/task-notifications";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { createProject, setMembership } from "@/lib/projects/projects";
import { mergePullRequest } from "@/lib/pulls/merge";
import { ensurePullRequest } from "@/lib/pulls/open";
import { createTask } from "@/lib/tasks/create-task";
import { PARENT_ENDED, transitionTask } from "@/lib/tasks/transition";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

const execFileAsync = promisify(execFile);

describe("notify: one event per key, one copy per member who wants it", () => {
  let db: Db;
  let dir: string;
  let cleanup: () => void;
  const tmp = makeTempDir("sam-notify-");
  let ownerId: string;
  let memberId: string;
  let outsiderId: string;
  let projectId: string;
  let otherProjectId: string;

  beforeAll(async () => {
    ({ db, dir, cleanup } = await makeTestDb());
    ownerId = (await ensureInstanceOwner(db)).id;
    const member = await createLocalUser(db, { email: "member@example.com" });
    const outsider = await createLocalUser(db, { email: "outsider@example.com" });
    memberId = member.id;
    outsiderId = outsider.id;
    projectId = (await createProject(db, ownerId, { repo: makeGitRepo(path.join(tmp.dir, "repo")) })).id;
    await setMembership(db, projectId, member, "member");
    // The outsider's own project, of which the others are not members.
    otherProjectId = (await createProject(db, ownerId, { repo: makeGitRepo(path.join(tmp.dir, "other")) })).id;
    await setMembership(db, otherProjectId, outsider, "owner");
    await db
      .delete(projectMembers)
      .where(and(eq(projectMembers.projectId, otherProjectId), eq(projectMembers.userId, ownerId)));
  });
  afterAll(() => {
    cleanup();
    tmp.cleanup();
  });

  const copiesOf = async (seq: number) =>
    (await db.select().from(notifications).where(eq(notifications.eventSeq, seq))).map((n) => n.userId).sort();
  const eventsOfTask = (taskId: string, kind = "progress") =>
    db.all<{ seq: number; title: string; body: string; createdAt: number; updatedAt: number }>(sql`
      SELECT seq, title, body, created_at AS createdAt, updated_at AS updatedAt
      FROM notification_events WHERE task_id = ${taskId} AND kind = ${kind} ORDER BY seq`);
  const newTask = async (title: string) =>
    (await createTask(db, ownerId, { projectId, prompt: `Do ${title}`, title, mode: "task" })).id;

  it("a key makes one event with one copy per project member, and a repeat of the key makes nothing", async () => {
    const taskId = await newTask("Ship the parser");
    const heard: NotificationsChanged[] = [];
    const off = onNotificationsChanged((c) => heard.push(c));
    const first = await notify(db, {
      kind: "task_completed",
      projectId,
      taskId,
      title: "Ship the parser: completed",
      dedupKey: `task_completed:${taskId}`,
    });
    // Someone who joins in between does not get a copy from the repeat either: recipients are chosen once.
    const late = await createLocalUser(db, { email: "late@example.com" });
    await setMembership(db, projectId, late, "member");
    const again = await notify(db, {
      kind: "task_completed",
      projectId,
      taskId,
      title: "Ship the parser: completed (again)",
      dedupKey: `task_completed:${taskId}`,
    });
    off();
    await db
      .delete(projectMembers)
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, late.id)));
    expect(first).toMatchObject({ created: true });
    expect(again).toBeNull();
    const events = await db.select().from(notificationEvents).where(eq(notificationEvents.taskId, taskId));
    expect(events.map((e) => e.title)).toEqual(["Ship the parser: completed"]);
    expect(await copiesOf(first!.seq)).toEqual([memberId, ownerId].sort());
    expect(heard).toEqual([{ projectId, userIds: expect.arrayContaining([ownerId, memberId]), seq: first!.seq }]);
  });

  it("a member who turned a kind off for a project gets no copy of it; other kinds and projects still reach them", async () => {
    await db.insert(notificationPrefs).values({ userId: memberId, projectId, kind: "task_failed", enabled: false });
    await db.insert(notificationPrefs).values({ userId: ownerId, projectId, kind: "task_failed", enabled: true });
    const taskId = await newTask("Fix the lexer");
    const failed = await notify(db, {
      kind: "task_failed",
      projectId,
      taskId,
      title: "Fix the lexer: failed",
      dedupKey: `task_failed:${taskId}`,
    });
    const completed = await notify(db, {
      kind: "task_completed",
      projectId,
      taskId,
      title: "Fix the lexer: completed",
      dedupKey: `task_completed:${taskId}`,
    });
    expect(await copiesOf(failed!.seq)).toEqual([ownerId]);
    expect(await copiesOf(completed!.seq)).toEqual([memberId, ownerId].sort());
  });

  it("a credential in a URL never reaches a notification", async () => {
    const taskId = await newTask("Push the branch");
    await notify(db, {
      kind: "task_failed",
      projectId,
      taskId,
      title: "Task failed: Push the branch",
      body: "git push https://x-access-token:ghs_secret123@github.com/o/r.git was refused",
      dedupKey: `task_failed:${taskId}`,
    });
    await notifyProgress(db, {
      projectId,
      taskId,
      title: "progress",
      body: "cloning https://bob:hunter2@example.com/r",
    });
    const stored = JSON.stringify(
      await db.select().from(notificationEvents).where(eq(notificationEvents.taskId, taskId)),
    );
    expect(stored).not.toContain("ghs_secret123");
    expect(stored).not.toContain("hunter2");
    expect(stored).toContain("https://***@github.com/o/r.git");
  });

  it("a person who is not a member of the project gets nothing from it", async () => {
    const taskId = await newTask("Write the docs");
    const event = await notify(db, {
      kind: "needs_input",
      projectId,
      taskId,
      title: "Write the docs asks: which format?",
      urgency: "high",
      dedupKey: `needs_input:${taskId}`,
    });
    expect(await copiesOf(event!.seq)).not.toContain(outsiderId);
    const outsiders = await db.select().from(notifications).where(eq(notifications.userId, outsiderId));
    expect(outsiders).toEqual([]);
    // The outsider's own project reaches them, and only them.
    const own = await notify(db, {
      kind: "pr_opened",
      projectId: otherProjectId,
      title: "PR #1",
      dedupKey: "pr_opened:x",
    });
    expect(await copiesOf(own!.seq)).toEqual([outsiderId]);
  });

  it("20 concurrent progress reports of one task make one event holding the last message; another task has its own", async () => {
    const taskId = await newTask("Port the engine");
    const otherTaskId = await newTask("Tune the engine");
    // Several connections to the same file, as several requests of the app (and other processes) would be.
    const connections = [db, ...[1, 2, 3].map(() => openDb({ url: `file:${path.join(dir, "sam.db")}` }))];
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          notifyProgress(connections[i % connections.length]!, {
            projectId,
            taskId,
            title: "Port the engine: progress",
            body: `step ${i + 1} of 20`,
          }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.seq)).size).toBe(1);
    } finally {
      for (const c of connections.slice(1)) c.$client.close();
    }
    const other = await notifyProgress(db, {
      projectId,
      taskId: otherTaskId,
      title: "Tune the engine: progress",
      body: "measuring",
    });
    const events = await eventsOfTask(taskId);
    expect(events).toHaveLength(1);
    expect(events[0]!.body).toBe("step 20 of 20");
    expect(other.created).toBe(true);
    expect(other.seq).not.toBe(events[0]!.seq);
    expect((await eventsOfTask(otherTaskId)).map((e) => e.body)).toEqual(["measuring"]);
    expect(await copiesOf(events[0]!.seq)).toEqual([memberId, ownerId].sort());
  });

  it("progress reports racing from 4 processes at once make one event", async () => {
    const taskId = await newTask("Race the reports");
    // Started together once every process has had time to load.
    const startAt = String(Date.now() + 5_000);
    const reporters = [1, 2, 3, 4].map((n) =>
      execFileAsync(process.execPath, [
        path.join(process.cwd(), "node_modules/tsx/dist/cli.mjs"),
        "test/helpers/progress-reporter.ts",
        path.join(dir, "sam.db"),
        projectId,
        taskId,
        `reporter ${n}`,
        "5",
        startAt,
      ]),
    );
    const results = (await Promise.all(reporters)).flatMap(
      (r) => JSON.parse(r.stdout) as { seq: number; created: boolean }[],
    );
    expect(results).toHaveLength(20);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const events = await eventsOfTask(taskId);
    expect(events).toHaveLength(1);
    expect(events[0]!.body).toMatch(/^reporter [1-4] [1-5]$/);
    expect(await copiesOf(events[0]!.seq)).toEqual([memberId, ownerId].sort());
  });

  it("an update within the window makes the copies unread again; after the window a new event starts", async () => {
    const taskId = await newTask("Refactor the cache");
    const first = await notifyProgress(db, {
      projectId,
      taskId,
      title: "Refactor the cache: progress",
      body: "started",
    });
    await db.update(notifications).set({ readAt: new Date() }).where(eq(notifications.eventSeq, first.seq));
    const heard: NotificationsChanged[] = [];
    const off = onNotificationsChanged((c) => heard.push(c));
    const second = await notifyProgress(db, {
      projectId,
      taskId,
      title: "Refactor the cache: progress",
      body: "halfway",
    });
    off();
    expect(second).toEqual({ seq: first.seq, created: false });
    const copies = await db.select().from(notifications).where(eq(notifications.eventSeq, first.seq));
    expect(copies.map((c) => c.readAt)).toEqual([null, null]);
    expect(heard).toEqual([{ projectId, userIds: expect.arrayContaining([ownerId, memberId]), seq: first.seq }]);

    // The window counts from the event's creation, not its last update.
    await db.run(
      sql`UPDATE notification_events SET created_at = created_at - ${PROGRESS_WINDOW_MS + 1} WHERE seq = ${first.seq}`,
    );
    const third = await notifyProgress(db, { projectId, taskId, title: "Refactor the cache: progress", body: "done" });
    expect(third.created).toBe(true);
    expect((await eventsOfTask(taskId)).map((e) => e.body)).toEqual(["halfway", "done"]);
  });

  it("a root task's completion and any task's failure are told once each; a subtask's completion is not", async () => {
    const kindsOf = async (taskId: string) =>
      (await db.select().from(notificationEvents).where(eq(notificationEvents.taskId, taskId))).map((e) => e.kind);
    const run = (taskId: string) =>
      transitionTask(db, { taskId, from: ["queued"], to: "running", actor: { kind: "system" } });
    const end = (taskId: string, to: "completed" | "failed", set = {}) =>
      transitionTask(db, { taskId, from: ["running"], to, actor: { kind: "system" }, set });

    const rootId = await newTask("Build the release");
    const { taskId: childId } = await dispatchTask(
      db,
      { taskId: rootId, projectId },
      { title: "Bump versions", description: "Bump them" },
    );
    await run(rootId);
    await run(childId);
    await end(childId, "completed", { summary: "Bumped" });
    expect(await kindsOf(childId)).toEqual([]);
    await end(rootId, "completed", { summary: "Released 1.2.0" });
    // A second completion of the same task (it cannot move again, and the key is taken) changes nothing.
    await notifyTaskEnded(db, rootId, "completed");
    const [completed] = await db.select().from(notificationEvents).where(eq(notificationEvents.taskId, rootId));
    expect(completed).toMatchObject({
      kind: "task_completed",
      title: "Task completed: Build the release",
      body: "Released 1.2.0",
      dedupKey: `task_completed:${rootId}`,
    });
    expect(await kindsOf(rootId)).toEqual(["task_completed"]);

    const failingId = await newTask("Migrate the data");
    await run(failingId);
    await end(failingId, "failed", { failureReason: "the migration timed out" });
    const [failed] = await db.select().from(notificationEvents).where(eq(notificationEvents.taskId, failingId));
    expect(failed).toMatchObject({
      kind: "task_failed",
      title: "Task failed: Migrate the data",
      body: "the migration timed out",
    });

    // A subtask that fails because its parent ended is not told on its own: the parent's end says it.
    const parentId = await newTask("Plan the move");
    const { taskId: orphanId } = await dispatchTask(
      db,
      { taskId: parentId, projectId },
      { title: "Copy the files", description: "Copy them" },
    );
    await run(parentId);
    await run(orphanId);
    await end(parentId, "failed", { failureReason: "out of budget" });
    await end(orphanId, "failed", { failureReason: PARENT_ENDED });
    expect(await kindsOf(parentId)).toEqual(["task_failed"]);
    expect(await kindsOf(orphanId)).toEqual([]);
  });

  it("a pull request's opening and its merge are told once each, with its number", async () => {
    const repo = (await db.query.projects.findFirst({ where: (p, { eq }) => eq(p.id, projectId) }))!.repo;
    const taskId = await newTask("Add the changelog");
    const branch = `sam/task-${taskId.slice(0, 8)}`;
    const scratch = path.join(tmp.dir, "scratch");
    git(tmp.dir, "clone", "-q", repo, scratch);
    git(scratch, "checkout", "-q", "-b", branch);
    fs.writeFileSync(path.join(scratch, "CHANGELOG.md"), "# Changes\n");
    git(scratch, "add", "-A");
    git(scratch, "commit", "-q", "-m", "Add the changelog");
    git(scratch, "push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    await transitionTask(db, { taskId, from: ["queued"], to: "running", actor: { kind: "system" } });
    await transitionTask(db, {
      taskId,
      from: ["running"],
      to: "completed",
      actor: { kind: "system" },
      set: { branch, baseBranch: "main", summary: "Added it" },
    });
    const pr = (await ensurePullRequest(db, taskId))!;
    await ensurePullRequest(db, taskId);
    await mergePullRequest(db, pr, { userId: ownerId, strategy: "merge" });
    const events = await db
      .select()
      .from(notificationEvents)
      .where(and(eq(notificationEvents.taskId, taskId), sql`kind LIKE 'pr_%'`))
      .orderBy(notificationEvents.seq);
    expect(events.map((e) => [e.kind, e.title, e.dedupKey])).toEqual([
      ["pr_opened", `Pull request #${pr.number} opened: Add the changelog`, `pr_opened:${pr.id}`],
      ["pr_merged", `Pull request #${pr.number} merged: Add the changelog`, `pr_merged:${pr.id}`],
    ]);
    expect(await copiesOf(events[1]!.seq)).toEqual([memberId, ownerId].sort());
  });
});
