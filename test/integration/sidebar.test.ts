import path from "node:path";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type Db, openDb } from "@/db/client";
import { tasks } from "@/db/schema";
import { SamError } from "@/lib/errors";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { retrySubtask } from "@/lib/orchestrator/retry";
import { addMember, createProject, removeMember, updateProjectSettings } from "@/lib/projects/projects";
import { groupMatches, groupMatchesQuery, SIDEBAR_FILTERS } from "@/lib/sidebar/filters";
import { loadSidebarPage } from "@/lib/sidebar/load-sidebar";
import type { SidebarChanges, SidebarGroup } from "@/lib/sidebar/types";
import { watchSidebar } from "@/lib/sidebar/watch-sidebar";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

let db: Db;
let dir: string;
let owner: User;
let projectId: string;
let cleanups: (() => void)[];

beforeEach(async () => {
  const testDb = await makeTestDb();
  const repos = makeTempDir("sam-sidebar-repos-");
  db = testDb.db;
  dir = testDb.dir;
  cleanups = [testDb.cleanup, repos.cleanup];
  owner = await ensureInstanceOwner(db);
  const repo = makeGitRepo(path.join(repos.dir, "repo"), { files: { "README.md": "# sidebar\n" } });
  projectId = (await createProject(db, owner.id, { repo })).id;
  await updateProjectSettings(db, owner.id, projectId, { maxChildren: 10, maxActiveDispatched: 50 });
});
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
});

const root = async (prompt: string, mode: "task" | "conversation" = "task") =>
  (await createTask(db, owner.id, { projectId, prompt, mode })).id;

const dispatch = async (parentId: string, title: string, dependsOn?: string[]) =>
  (await dispatchTask(db, { taskId: parentId, projectId }, { description: title, title, dependsOn })).taskId;

/** Moves a task along the statuses given, each step through the one guarded transition. */
async function move(taskId: string, ...path: ("provisioning" | "running" | "completed" | "failed" | "cancelled")[]) {
  let from = (await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) }))!.status;
  for (const to of path) {
    const moved = await transitionTask(db, {
      taskId,
      from: [from],
      to,
      actor: { kind: "system" },
      ...(to === "failed" ? { set: { failureReason: "it broke" } } : {}),
    });
    expect(moved, `${taskId}: ${from} → ${to}`).toBe(true);
    from = to;
  }
}

const page = (input: Record<string, unknown> = {}) => loadSidebarPage(db, owner.id, projectId, input);

async function samErrorOf(promise: Promise<unknown>): Promise<SamError> {
  try {
    await promise;
  } catch (err) {
    if (SamError.is(err)) return err;
    throw err;
  }
  throw new Error("expected a SamError");
}

describe("the sidebar page", () => {
  test("groups are root tasks newest first, each with its session, its children's states and what blocks them", async () => {
    const older = await root("An older conversation", "conversation");
    const parent = await root("Build the feature");
    const api = await dispatch(parent, "Write the API");
    const docs = await dispatch(parent, "Write the docs");
    const ui = await dispatch(parent, "Build the UI", [api]);
    const grandchild = await dispatch(api, "Write the schema");
    await move(docs, "provisioning", "running", "completed");

    const { groups, nextCursor } = await page();
    expect(nextCursor).toBeNull();
    expect(groups.map((g) => g.id)).toEqual([parent, older]);
    const [group] = groups as [SidebarGroup];
    const session = await db.query.chatSessions.findFirst({ where: (s, { eq }) => eq(s.taskId, parent) });
    expect(group).toMatchObject({
      sessionId: session!.id,
      title: "Build the feature",
      mode: "task",
      status: "queued",
      childCount: 3,
      childStatusCounts: { queued: 2, completed: 1 },
      progress: { completed: 1, total: 3 },
      flags: { active: true, blocked: true, failed: false },
    });
    expect(group.children.map((c) => [c.title, c.status, c.blockedByTitles, c.subCount])).toEqual([
      ["Write the API", "queued", [], 1],
      ["Write the docs", "completed", [], 0],
      ["Build the UI", "queued", ["Write the API"], 0],
    ]);
    expect(group.children.map((c) => c.id)).not.toContain(grandchild);
    expect(groups[1]).toMatchObject({ mode: "conversation", childCount: 0, progress: { completed: 0, total: 0 } });

    // Once the dependency completes, nothing blocks the waiting child.
    await move(api, "provisioning", "running", "completed");
    const after = (await page()).groups[0]!;
    expect(after.children.find((c) => c.id === ui)!.blockedByTitles).toEqual([]);
    expect(after.flags.blocked).toBe(false);
    expect(after.progress).toEqual({ completed: 2, total: 3 });
  });

  test("progress leaves out cancelled children and failed ones replaced by a retry, so a finished group is whole", async () => {
    const parent = await root("Parent");
    const a = await dispatch(parent, "A");
    const b = await dispatch(parent, "B");
    const c = await dispatch(parent, "C");
    await move(a, "provisioning", "running", "completed");
    await move(b, "cancelled");
    await move(c, "provisioning", "running", "failed");
    let group = (await page()).groups[0]!;
    expect(group.progress).toEqual({ completed: 1, total: 2 });
    expect(group.flags.failed).toBe(true);

    const { taskId: replacement } = await retrySubtask(db, { kind: "task", taskId: parent, projectId }, { taskId: c });
    await move(replacement, "provisioning", "running", "completed");
    group = (await page()).groups[0]!;
    expect(group.childCount).toBe(4);
    expect(group.childStatusCounts).toEqual({ completed: 2, cancelled: 1, failed: 1 });
    expect(group.progress).toEqual({ completed: 2, total: 2 });
    expect(group.flags.failed).toBe(false);
  });

  test("pages follow each other newest first without gaps or repeats, also among roots created in the same millisecond", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 70; i++) ids.push(await root(`Root ${i}`));
    // Ten roots share one creation time, across the boundary of the first page.
    const shared = new Date(Date.now() + 60_000);
    for (const id of ids.slice(35, 45)) await db.update(tasks).set({ createdAt: shared }).where(eq(tasks.id, id));

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const next = await page(cursor ? { cursor } : {});
      sizes.push(next.groups.length);
      seen.push(...next.groups.map((g) => g.id));
      cursor = next.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([30, 30, 10]);
    expect(new Set(seen).size).toBe(70);
    expect(seen.slice(0, 10).sort()).toEqual(ids.slice(35, 45).sort());
    expect(seen.slice(10)).toEqual(
      ids
        .filter((id) => !ids.slice(35, 45).includes(id))
        .reverse()
        .filter((id) => seen.includes(id)),
    );
  });

  test("each filter selects exactly the groups it matches, and the counts say how many are active, blocked and failed", async () => {
    const idle = await root("Only queued");
    const blocked = await root("Has a blocked child");
    const first = await dispatch(blocked, "First");
    await dispatch(blocked, "Second", [first]);
    const failed = await root("Child failed");
    await move(await dispatch(failed, "Breaks"), "failed");
    const done = await root("All done");
    await move(await dispatch(done, "Finishes"), "provisioning", "running", "completed");
    await move(done, "provisioning", "running", "completed");
    const doneButChildRuns = await root("Ended, child still running");
    await move(await dispatch(doneButChildRuns, "Still going"), "provisioning", "running");
    await move(doneButChildRuns, "provisioning", "running", "completed");
    const cancelled = await root("Cancelled");
    await move(cancelled, "cancelled");

    const all = (await page()).groups;
    expect(all).toHaveLength(6);
    const expected = {
      all: [cancelled, doneButChildRuns, done, failed, blocked, idle],
      active: [doneButChildRuns, failed, blocked, idle],
      blocked: [blocked],
      failed: [failed],
      done: [cancelled, done],
    };
    for (const filter of SIDEBAR_FILTERS) {
      const got = await page({ filter });
      expect(
        got.groups.map((g) => g.id),
        filter,
      ).toEqual(expected[filter]);
      // The live sidebar decides with groupMatches what the loader decides with SQL.
      expect(
        all.filter((g) => groupMatches(filter, g)).map((g) => g.id),
        filter,
      ).toEqual(expected[filter]);
    }
    expect((await page()).counts).toEqual({ active: 4, blocked: 1, failed: 1 });
  });

  test("the search keeps groups whose title or a subtask's title contains the text, in any case; % and _ are literal", async () => {
    const plain = await root("Refactor the parser");
    const parent = await root("Ship the release");
    await dispatch(parent, "Update the PARSER docs");
    await root("Make 100% sure_it works");
    const ids = async (q: string) => (await page({ q })).groups.map((g) => g.id);
    expect(await ids("parser")).toEqual([parent, plain]);
    expect(await ids("  Release ")).toEqual([parent]);
    expect(await ids("100%")).toHaveLength(1);
    expect(await ids("0_%")).toEqual([]);
    expect(await ids("%")).toHaveLength(1);
    // The live list judges a changed group by the same rule.
    for (const group of (await page({})).groups) {
      expect(groupMatchesQuery("parser", group), group.title).toBe((await ids("parser")).includes(group.id));
    }
    expect((await samErrorOf(page({ q: "x".repeat(201) }))).message).toContain("q: must be at most 200 characters");
  });

  test("bad input names the field; a project the user is not a member of does not exist for them", async () => {
    const bad = await samErrorOf(page({ filter: "broken", limit: "0" }));
    expect(bad.code).toBe("invalid_input");
    expect(bad.details?.fields?.map((f: { field: string }) => f.field).sort()).toEqual(["filter", "limit"]);
    expect((await samErrorOf(page({ cursor: "not a cursor" }))).message).toMatch(/cursor/);

    const stranger = await createLocalUser(db, { email: "stranger@example.com", name: "Stranger" });
    const denied = await samErrorOf(loadSidebarPage(db, stranger.id, projectId, {}));
    expect(denied.code).toBe("not_found");
  });
});

/** Reads a feed until `done` holds for what arrived, then stops it. */
async function collect(feed: AsyncGenerator<SidebarChanges>, done: (all: SidebarChanges[]) => boolean) {
  const all: SidebarChanges[] = [];
  for await (const changes of feed) {
    all.push(changes);
    if (done(all)) break;
  }
  return all;
}

describe("the sidebar's live changes", () => {
  test("a status change written by another connection arrives with the group's fresh progress and the dependent unblocked", async () => {
    const parent = await root("Parent");
    const api = await dispatch(parent, "Write the API");
    const ui = await dispatch(parent, "Build the UI", [api]);
    const { changesAfter } = await page();

    // Another process's write: no change hint reaches this one, only the database knows.
    const other = openDb({ url: `file:${path.join(dir, "sam.db")}` });
    cleanups.unshift(() => other.$client.close());
    const stop = new AbortController();
    const feed = watchSidebar(db, owner.id, projectId, { after: changesAfter, signal: stop.signal, pollMs: 50 });
    const writing = (async () => {
      for (const to of ["provisioning", "running", "completed"] as const) {
        const from = (await other.query.tasks.findFirst({ where: eq(tasks.id, api) }))!.status;
        await transitionTask(other, { taskId: api, from: [from], to, actor: { kind: "system" } });
      }
    })();
    const batches = await collect(feed, (all) =>
      all.some((b) => b.groups.some((g) => g.id === parent && g.progress.completed === 1)),
    );
    await writing;
    stop.abort();

    const last = batches.at(-1)!;
    expect(last.groups.find((g) => g.id === parent)).toMatchObject({
      progress: { completed: 1, total: 2 },
      flags: { blocked: false },
    });
    const children = last.groups.find((g) => g.id === parent)!.children;
    expect(children.find((c) => c.id === api)).toMatchObject({ status: "completed" });
    expect(children.find((c) => c.id === ui)).toMatchObject({ status: "queued", blockedByTitles: [] });
    expect(last.cursor).toBeGreaterThanOrEqual(changesAfter);
  });

  test("a stream resumed from the last cursor it sent gets every later change, including a new group", async () => {
    const parent = await root("Parent");
    const { changesAfter } = await page();
    const stop = new AbortController();
    const first = watchSidebar(db, owner.id, projectId, { after: changesAfter, signal: stop.signal, pollMs: 50 });
    const child = await dispatch(parent, "Child");
    const [seen] = await collect(first, (all) =>
      all.some((b) => b.groups.flatMap((g) => g.children).some((c) => c.id === child)),
    );
    stop.abort();

    // While nobody listens: a new root and a change to the child.
    const newer = await root("Newer");
    await move(child, "cancelled");
    const again = new AbortController();
    const resumed = watchSidebar(db, owner.id, projectId, { after: seen!.cursor, signal: again.signal, pollMs: 50 });
    const batches = await collect(resumed, (all) => {
      const groups = all.flatMap((b) => b.groups);
      const children = all.flatMap((b) => b.groups.flatMap((g) => g.children));
      return groups.some((g) => g.id === newer) && children.some((c) => c.id === child && c.status === "cancelled");
    });
    again.abort();
    expect(batches.flatMap((b) => b.groups).find((g) => g.id === parent)).toMatchObject({
      childStatusCounts: { cancelled: 1 },
      progress: { completed: 0, total: 0 },
    });
  });

  test("the feed ends when the user stops being a member of the project", async () => {
    const member = await createLocalUser(db, { email: "member@example.com", name: "Member" });
    await addMember(db, owner.id, projectId, { email: "member@example.com" });
    const stop = new AbortController();
    const feed = watchSidebar(db, member.id, projectId, { after: 0, signal: stop.signal, pollMs: 50 });
    const reading = collect(feed, () => false);
    await removeMember(db, owner.id, projectId, member.id);
    expect(await reading).toEqual([]);
  });
});
