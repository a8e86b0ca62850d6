import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Db } from "@/db/client";
import { projectMembers, projects, pullRequests, tasks, tokens } from "@/db/schema";
import { hashToken } from "@/lib/auth/tokens";
import { resolveIdPrefix } from "@/lib/ids/resolve-prefix";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";

// Ids chosen so that prefixes collide: the two `aaaaaaaa` tasks share 8 characters, the
// `cccccccc` ones share them across two projects, of which the member sees only one.
const ID = {
  shared1: "aaaaaaaa-0000-4000-8000-000000000001",
  shared2: "aaaaaaaa-1111-4000-8000-000000000002",
  unique: "bbbbbbbb-0000-4000-8000-000000000003",
  visible: "cccccccc-0000-4000-8000-000000000004",
  hidden: "cccccccc-1111-4000-8000-000000000005",
  hiddenOnly: "dddddddd-0000-4000-8000-000000000006",
  ourProject: "eeeeeeee-0000-4000-8000-000000000007",
  theirProject: "eeeeeeee-1111-4000-8000-000000000008",
};

let db: Db;
let cleanup: () => void;
let member: User;

async function insertProject(id: string, name: string, userId: string) {
  await db.insert(projects).values({ id, name, repo: "/nowhere", repoKind: "local", defaultBranch: "main" });
  await db.insert(projectMembers).values({ projectId: id, userId, role: "owner" });
}

async function insertTask(id: string, projectId: string, title: string) {
  await db.insert(tasks).values({ id, projectId, rootId: id, lineageId: id, mode: "task", title, description: title });
}

beforeEach(async () => {
  ({ db, cleanup } = await makeTestDb());
  const owner = await ensureInstanceOwner(db);
  member = await createLocalUser(db, { email: "member@example.com" });
  await insertProject(ID.ourProject, "Ours", member.id);
  await insertProject(ID.theirProject, "Theirs", owner.id);
  await insertTask(ID.shared1, ID.ourProject, "Fix the login form");
  await insertTask(ID.shared2, ID.ourProject, "Write the guide");
  await insertTask(ID.unique, ID.ourProject, "Only one");
  await insertTask(ID.visible, ID.ourProject, "Visible to the member");
  await insertTask(ID.hidden, ID.theirProject, "Hidden from the member");
  await insertTask(ID.hiddenOnly, ID.theirProject, "Also hidden");
});
afterEach(() => cleanup());

describe("an id prefix", () => {
  test("a full id resolves to itself", async () => {
    expect(await resolveIdPrefix(db, "task", "operator", ID.shared1)).toBe(ID.shared1);
    expect(await resolveIdPrefix(db, "project", { userId: member.id }, ID.ourProject)).toBe(ID.ourProject);
  });

  test("a unique prefix of 8 characters resolves, whatever its case and surrounding spaces", async () => {
    expect(await resolveIdPrefix(db, "task", "operator", "bbbbbbbb")).toBe(ID.unique);
    expect(await resolveIdPrefix(db, "task", "operator", " BBBBBBBB ")).toBe(ID.unique);
    expect(await resolveIdPrefix(db, "task", "operator", "aaaaaaaa-1")).toBe(ID.shared2);
  });

  test("fewer than 8 characters is invalid input naming the minimum", async () => {
    await expect(resolveIdPrefix(db, "task", "operator", "bbbbbbb")).rejects.toMatchObject({
      code: "invalid_input",
      message: expect.stringMatching(/the task id or a unique prefix of at least 8 characters/),
    });
  });

  test("a prefix several ids share is refused listing each match's id and title", async () => {
    const refused = resolveIdPrefix(db, "task", "operator", "aaaaaaaa");
    await expect(refused).rejects.toMatchObject({
      code: "invalid_input",
      details: {
        matches: [
          { id: ID.shared1, label: "Fix the login form" },
          { id: ID.shared2, label: "Write the guide" },
        ],
      },
    });
    await expect(refused).rejects.toThrow(
      `aaaaaaaa matches several tasks: ${ID.shared1} (Fix the login form), ${ID.shared2} (Write the guide)`,
    );
    await expect(resolveIdPrefix(db, "project", "operator", "eeeeeeee")).rejects.toThrow(/\(Ours\), .*\(Theirs\)/);
  });

  test("a prefix no id starts with is not found", async () => {
    await expect(resolveIdPrefix(db, "task", "operator", "ffffffff")).rejects.toMatchObject({
      code: "not_found",
      message: "No task ffffffff",
    });
  });

  test("% and _ match only themselves, never as wildcards", async () => {
    for (const input of ["aaaaaaa%", "bbbbbbb_", "________", "%%%%%%%%"]) {
      await expect(resolveIdPrefix(db, "task", "operator", input)).rejects.toMatchObject({ code: "not_found" });
    }
  });

  test("a user's prefix is resolved among the rows of their own projects only", async () => {
    const asMember = { userId: member.id };
    expect(await resolveIdPrefix(db, "task", asMember, "cccccccc")).toBe(ID.visible);
    await expect(resolveIdPrefix(db, "task", "operator", "cccccccc")).rejects.toThrow(/matches several tasks/);
    await expect(resolveIdPrefix(db, "task", asMember, "dddddddd")).rejects.toMatchObject({ code: "not_found" });
    await expect(resolveIdPrefix(db, "task", asMember, ID.hidden)).rejects.toMatchObject({ code: "not_found" });
    expect(await resolveIdPrefix(db, "project", asMember, "eeeeeeee")).toBe(ID.ourProject);
  });

  test("a pull request's prefix is resolved among the pull requests of the user's projects, labelled by number and title", async () => {
    const pull = (id: string, projectId: string, taskId: string, number: number, title: string) => ({
      id,
      projectId,
      taskId,
      number,
      title,
      headBranch: `sam/${number}`,
      baseBranch: "main",
    });
    await db
      .insert(pullRequests)
      .values([
        pull("77777777-0000-4000-8000-000000000001", ID.ourProject, ID.shared1, 1, "Fix the login form"),
        pull("77777777-1111-4000-8000-000000000002", ID.ourProject, ID.shared2, 2, "Write the guide"),
        pull("66666666-0000-4000-8000-000000000003", ID.theirProject, ID.hidden, 1, "Hidden"),
      ]);
    const asMember = { userId: member.id };
    expect(await resolveIdPrefix(db, "pull request", asMember, "77777777-1")).toBe(
      "77777777-1111-4000-8000-000000000002",
    );
    await expect(resolveIdPrefix(db, "pull request", asMember, "77777777")).rejects.toThrow(
      "77777777 matches several pull requests: 77777777-0000-4000-8000-000000000001 (#1 Fix the login form), " +
        "77777777-1111-4000-8000-000000000002 (#2 Write the guide)",
    );
    await expect(resolveIdPrefix(db, "pull request", asMember, "66666666")).rejects.toMatchObject({
      code: "not_found",
      message: "No pull request 66666666",
    });
    expect(await resolveIdPrefix(db, "pull request", "operator", "66666666")).toBe(
      "66666666-0000-4000-8000-000000000003",
    );
    await expect(resolveIdPrefix(db, "pull request", asMember, "6666")).rejects.toThrow(
      /the pull request id or a unique prefix of at least 8 characters/,
    );
  });

  test("a personal token's prefix is resolved among the user's own personal tokens", async () => {
    const owner = await ensureInstanceOwner(db);
    const token = (id: string, userId: string, kind: "personal" | "task" = "personal") => ({
      id,
      kind,
      tokenHash: hashToken(id),
      name: `token ${id.slice(0, 4)}`,
      userId,
    });
    await db
      .insert(tokens)
      .values([
        token("99999999-0000-4000-8000-000000000001", member.id),
        token("99999999-1111-4000-8000-000000000002", owner.id),
        token("88888888-0000-4000-8000-000000000003", member.id, "task"),
      ]);
    expect(await resolveIdPrefix(db, "personal token", { userId: member.id }, "99999999")).toBe(
      "99999999-0000-4000-8000-000000000001",
    );
    await expect(resolveIdPrefix(db, "personal token", "operator", "99999999")).rejects.toThrow(
      /matches several personal tokens/,
    );
    await expect(resolveIdPrefix(db, "personal token", "operator", "88888888")).rejects.toMatchObject({
      code: "not_found",
    });
  });
});
