import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Db } from "@/db/client";
import { createIdea } from "@/lib/ideas/ideas";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { addMember, createProject } from "@/lib/projects/projects";
import { jumpSearch } from "@/lib/search/jump-search";
import { createTask } from "@/lib/tasks/create-task";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

let db: Db;
let owner: User;
let cleanups: (() => void)[];
let repos: string;

beforeEach(async () => {
  const testDb = await makeTestDb();
  const reposDir = makeTempDir("sam-jump-repos-");
  db = testDb.db;
  repos = reposDir.dir;
  cleanups = [testDb.cleanup, reposDir.cleanup];
  owner = await ensureInstanceOwner(db);
});
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
});

const project = async (user: User, name: string) =>
  (await createProject(db, user.id, { repo: makeGitRepo(path.join(repos, name)), name })).id;

describe("the command palette's search", () => {
  test("finds sessions, subtasks, ideas and projects by title, each with the page it opens", async () => {
    const projectId = await project(owner, "payments");
    const root = await createTask(db, owner.id, { projectId, prompt: "Payments: add refunds", mode: "conversation" });
    const child = (
      await dispatchTask(db, { taskId: root.id, projectId }, { title: "Refund API", description: "Build it." })
    ).taskId;
    const idea = await createIdea(db, projectId, { kind: "user", userId: owner.id }, { title: "Partial refunds" });
    const found = await jumpSearch(db, owner.id, { q: "REFUND" });
    const byKind = Object.fromEntries(found.map((r) => [r.kind, r]));
    expect(found.map((r) => r.kind).sort()).toEqual(["idea", "session", "task"]);
    expect(byKind.session!.href).toMatch(new RegExp(`^/projects/${projectId}/sessions/[0-9a-f-]{36}$`));
    expect(byKind.task!.href).toBe(`/projects/${projectId}/tasks/${child}`);
    expect(byKind.idea!.href).toBe(`/projects/${projectId}/ideas/${idea.id}`);
    const projects = await jumpSearch(db, owner.id, { q: "paym" });
    expect(projects.find((r) => r.kind === "project")).toMatchObject({ id: projectId, href: `/projects/${projectId}` });
    // An id's first characters (as the UI shows them) find it too.
    expect((await jumpSearch(db, owner.id, { q: child.slice(0, 8) })).map((r) => r.id)).toContain(child);
  });

  test("only the projects the user is a member of are searched", async () => {
    const member = await createLocalUser(db, { email: "member@example.com" });
    const secret = await project(owner, "secret-work");
    await createTask(db, owner.id, { projectId: secret, prompt: "Rotate the secret keys" });
    expect(await jumpSearch(db, member.id, { q: "secret" })).toEqual([]);
    await addMember(db, owner.id, secret, { email: "member@example.com", role: "member" });
    expect((await jumpSearch(db, member.id, { q: "secret" })).map((r) => r.kind).sort()).toEqual([
      "project",
      "session",
    ]);
  });

  test("the current project's results come first, then titles that start with the text; % and _ are literal", async () => {
    const here = await project(owner, "here");
    const there = await project(owner, "there");
    const elsewhere = await createTask(db, owner.id, { projectId: there, prompt: "Cache warmup" });
    const inner = await createTask(db, owner.id, { projectId: here, prompt: "Warm the cache" });
    const starts = await createTask(db, owner.id, { projectId: here, prompt: "Cache eviction" });
    const ids = (await jumpSearch(db, owner.id, { q: "cache", projectId: here })).map((r) => r.id);
    expect(ids).toEqual([starts.id, inner.id, elsewhere.id]);
    await createTask(db, owner.id, { projectId: here, prompt: "Reach 100% coverage" });
    expect(await jumpSearch(db, owner.id, { q: "0_%" })).toEqual([]);
    expect((await jumpSearch(db, owner.id, { q: "100%" })).map((r) => r.title)).toEqual(["Reach 100% coverage"]);
  });

  test("bad input is refused naming the field", async () => {
    await expect(jumpSearch(db, owner.id, { q: "x".repeat(201) })).rejects.toThrow(/q: must be at most 200/);
    await expect(jumpSearch(db, owner.id, { limit: 0 })).rejects.toThrow(/limit/);
    await expect(jumpSearch(db, owner.id, { sql: "1" })).rejects.toThrow(/sql: is not a known field/);
  });
});
