import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Db } from "@/db/client";
import { SamError } from "@/lib/errors";
import {
  addMember,
  createProject,
  getProjectForUser,
  listAllProjects,
  listMembers,
  listProjects,
  removeMember,
  setProjectArchived,
  updateProjectSettings,
} from "@/lib/projects/projects";
import { setSecret } from "@/lib/secrets/store";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

let db: Db;
let tmp: string;
let cleanups: (() => void)[];
let owner: User;

beforeEach(async () => {
  const testDb = await makeTestDb();
  const dir = makeTempDir("sam-projects-");
  db = testDb.db;
  tmp = dir.dir;
  cleanups = [testDb.cleanup, dir.cleanup];
  owner = await ensureInstanceOwner(db);
});
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
});

/** The SamError a promise rejects with; fails the test if it resolves or throws something else. */
async function samErrorOf(promise: Promise<unknown>): Promise<SamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!SamError.is(err)) throw new Error(`expected a SamError, got ${String(err)}`);
  return err;
}

function fieldsOf(err: SamError): string[] {
  return (err.details?.fields ?? []).map((f) => f.field);
}

describe("creating a project", () => {
  test("from a local repository: the default branch is detected and the creator becomes its owner", async () => {
    const repo = makeGitRepo(path.join(tmp, "my-service"), { branch: "trunk" });

    const project = await createProject(db, owner.id, { repo });

    expect(project).toMatchObject({
      name: "my-service",
      repo: fs.realpathSync(repo),
      repoKind: "local",
      defaultBranch: "trunk",
      role: "owner",
      maxDepth: 3,
      maxChildren: 5,
      maxActiveDispatched: 10,
      maxRetries: 3,
      stopGraceSeconds: 5,
    });
    expect(await listMembers(db, owner.id, project.id)).toEqual([
      expect.objectContaining({ userId: owner.id, role: "owner" }),
    ]);
    expect((await listProjects(db, owner.id)).map((p) => p.id)).toEqual([project.id]);
  });

  test("the default branch is the one checked out, not the first or an alphabetical one", async () => {
    const repo = makeGitRepo(path.join(tmp, "repo"), { branch: "main" });
    git(repo, "checkout", "-q", "-b", "develop");
    expect((await createProject(db, owner.id, { repo, name: "Named" })).defaultBranch).toBe("develop");
  });

  test("a remote URL (file:// to a bare repository) works and its default branch is read from the remote", async () => {
    const source = makeGitRepo(path.join(tmp, "source"), { branch: "trunk" });
    const bare = path.join(tmp, "remote.git");
    git(tmp, "clone", "-q", "--bare", source, bare);

    const project = await createProject(db, owner.id, { repo: `file://${bare}` });

    expect(project).toMatchObject({
      name: "remote",
      repo: `file://${bare}`,
      repoKind: "remote",
      defaultBranch: "trunk",
    });
  });

  test("a local bare repository is a repository", async () => {
    const source = makeGitRepo(path.join(tmp, "source"), { branch: "trunk" });
    const bare = path.join(tmp, "served.git");
    git(tmp, "clone", "-q", "--bare", source, bare);

    const project = await createProject(db, owner.id, { repo: bare });
    expect(project).toMatchObject({ name: "served", repoKind: "local", defaultBranch: "trunk" });
  });

  test("each unusable repository gets its own error naming the problem, and nothing is stored", async () => {
    const repo = makeGitRepo(path.join(tmp, "repo"), { files: { "README.md": "hi\n", "src/index.ts": "1\n" } });
    const plainDir = path.join(tmp, "plain");
    fs.mkdirSync(plainDir);
    const emptyRepo = path.join(tmp, "empty");
    fs.mkdirSync(emptyRepo);
    git(emptyRepo, "init", "-q");

    const cases: [string, string, RegExp][] = [
      ["not a repository", plainDir, /^Not a git repository: .*plain$/],
      ["a missing path", path.join(tmp, "nope"), /^No such path: .*nope$/],
      ["a malformed URL", "https://", /^Malformed repository URL: "https:\/\/"/],
      ["a URL without a repository path", "https://example.com", /^Malformed repository URL: .*needs a host and a/],
      ["an unsupported scheme", "ftp://example.com/repo.git", /^Unsupported repository URL scheme "ftp:"/],
      // The daemon refuses git:// (unauthenticated, and SAM pushes): the web app's rule is the same one.
      ["a git:// URL", "git://example.com/repo.git", /^Unsupported repository URL scheme "git:"/],
      ["a file inside the repository", path.join(repo, "README.md"), /^Not a directory: .*README\.md$/],
      ["a subdirectory of the repository", path.join(repo, "src"), /inside the git repository at .*repo; give/],
      ["the repository's .git directory", path.join(repo, ".git"), /inside the git directory .*\.git; give/],
      ["a repository without commits", emptyRepo, /has no commits/],
      ["an unreachable remote", `file://${path.join(tmp, "gone.git")}`, /^Could not read the repository at file:/],
    ];

    const messages: string[] = [];
    for (const [what, input, expected] of cases) {
      const err = await samErrorOf(createProject(db, owner.id, { repo: input }));
      expect(err.code, what).toBe("repo_invalid");
      expect(err.message, what).toMatch(expected);
      expect(fieldsOf(err), what).toEqual(["repo"]);
      messages.push(err.message);
    }
    expect(new Set(messages).size).toBe(cases.length);
    expect(await listAllProjects(db, "operator", { includeArchived: true })).toEqual([]);
  });

  test("an empty repository input and an overlong name are refused with the field named", async () => {
    expect(fieldsOf(await samErrorOf(createProject(db, owner.id, { repo: "  " })))).toEqual(["repo"]);
    const repo = makeGitRepo(path.join(tmp, "repo"));
    const err = await samErrorOf(createProject(db, owner.id, { repo, name: "x".repeat(101) }));
    expect(err.code).toBe("invalid_input");
    expect(fieldsOf(err)).toEqual(["name"]);
  });
});

describe("project access", () => {
  let other: User;
  let member: User;
  let projectId: string;

  beforeEach(async () => {
    other = await createLocalUser(db, { email: "other@example.com" });
    member = await createLocalUser(db, { email: "member@example.com" });
    projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(tmp, "repo")) })).id;
  });

  test("a user who is not a member can neither see nor change the project: it does not exist for them", async () => {
    expect(await listProjects(db, other.id)).toEqual([]);
    expect((await samErrorOf(getProjectForUser(db, other.id, projectId))).code).toBe("not_found");
    expect((await samErrorOf(updateProjectSettings(db, other.id, projectId, { maxDepth: 5 }))).code).toBe("not_found");
    expect((await samErrorOf(setProjectArchived(db, other.id, projectId, true))).code).toBe("not_found");
    expect((await samErrorOf(listMembers(db, other.id, projectId))).code).toBe("not_found");
    expect((await samErrorOf(addMember(db, other.id, projectId, { email: "other@example.com" }))).code).toBe(
      "not_found",
    );
    expect((await getProjectForUser(db, owner.id, projectId)).maxDepth).toBe(3);
  });

  test("a member sees the project but cannot change its settings, archive it or manage members", async () => {
    await addMember(db, owner.id, projectId, { email: "member@example.com" });

    expect(await getProjectForUser(db, member.id, projectId)).toMatchObject({ id: projectId, role: "member" });
    expect((await listProjects(db, member.id)).map((p) => p.id)).toEqual([projectId]);
    expect((await samErrorOf(updateProjectSettings(db, member.id, projectId, { maxDepth: 5 }))).code).toBe("forbidden");
    expect((await samErrorOf(setProjectArchived(db, member.id, projectId, true))).code).toBe("forbidden");
    expect((await samErrorOf(removeMember(db, member.id, projectId, owner.id))).code).toBe("forbidden");
    expect((await getProjectForUser(db, owner.id, projectId)).maxDepth).toBe(3);
  });

  test("adding a member who has no account is refused with the field named", async () => {
    const err = await samErrorOf(addMember(db, owner.id, projectId, { email: "stranger@example.com" }));
    expect(err.code).toBe("not_found");
    expect(fieldsOf(err)).toEqual(["email"]);
  });

  test("the last owner cannot be removed; once there is a second owner, the first can be", async () => {
    const lastOwner = await samErrorOf(removeMember(db, owner.id, projectId, owner.id));
    expect(lastOwner.code).toBe("conflict");
    expect(lastOwner.message).toMatch(/at least one owner/);

    await addMember(db, owner.id, projectId, { email: "member@example.com", role: "owner" });
    await removeMember(db, member.id, projectId, owner.id);

    expect(await listMembers(db, member.id, projectId)).toEqual([
      expect.objectContaining({ userId: member.id, role: "owner" }),
    ]);
    expect((await samErrorOf(getProjectForUser(db, owner.id, projectId))).code).toBe("not_found");
    expect((await samErrorOf(removeMember(db, member.id, projectId, other.id))).code).toBe("not_found");
  });
});

describe("project settings", () => {
  let projectId: string;

  beforeEach(async () => {
    projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(tmp, "repo")) })).id;
  });

  test("values out of range are refused with every offending field named, and nothing changes", async () => {
    const err = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, {
        maxDepth: 11,
        maxChildren: 0,
        maxActiveDispatched: 51,
        maxRetries: -1,
        stopGraceSeconds: 31,
        harness: "vim",
        model: "gpt-4",
      }),
    );
    expect(err.code).toBe("invalid_input");
    expect(fieldsOf(err).sort()).toEqual(
      ["harness", "maxActiveDispatched", "maxChildren", "maxDepth", "maxRetries", "model", "stopGraceSeconds"].sort(),
    );
    expect(err.message).toMatch(/maxDepth: Max depth must be between 1 and 10/);
    expect(err.message).toMatch(/stopGraceSeconds: Stop grace seconds must be between 0 and 30/);

    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({
      maxDepth: 3,
      maxChildren: 5,
      maxActiveDispatched: 10,
      maxRetries: 3,
      stopGraceSeconds: 5,
      harness: "builtin",
      model: "scripted",
    });
  });

  test("pull request settings: branch deletion as a form string or a boolean, a GitHub Enterprise URL without credentials", async () => {
    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({ deleteBranches: true, githubUrl: null });
    await updateProjectSettings(db, owner.id, projectId, {
      deleteBranches: "false",
      githubUrl: "https://ghe.example.com/",
    });
    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({
      deleteBranches: false,
      githubUrl: "https://ghe.example.com",
    });
    const bad = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, {
        deleteBranches: "maybe",
        githubUrl: "https://me:pw@ghe.example.com",
      }),
    );
    expect(fieldsOf(bad).sort()).toEqual(["deleteBranches", "githubUrl"]);
    expect(bad.message).toMatch(/must not carry credentials/);
    expect(
      fieldsOf(await samErrorOf(updateProjectSettings(db, owner.id, projectId, { githubUrl: "ftp://x" }))),
    ).toEqual(["githubUrl"]);
    await updateProjectSettings(db, owner.id, projectId, { deleteBranches: true, githubUrl: "" });
    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({ deleteBranches: true, githubUrl: null });
  });

  test("a fraction, a non-number and an unknown field are refused with the field named", async () => {
    const fraction = await samErrorOf(updateProjectSettings(db, owner.id, projectId, { maxDepth: 2.5 }));
    expect(fieldsOf(fraction)).toEqual(["maxDepth"]);
    const text = await samErrorOf(updateProjectSettings(db, owner.id, projectId, { maxRetries: "many" }));
    expect(fieldsOf(text)).toEqual(["maxRetries"]);
    const unknown = await samErrorOf(updateProjectSettings(db, owner.id, projectId, { maxDepth: 4, colour: "red" }));
    expect(fieldsOf(unknown)).toEqual(["colour"]);
    expect((await getProjectForUser(db, owner.id, projectId)).maxDepth).toBe(3);
  });

  test("valid values, including the bounds and form strings, persist", async () => {
    // The model's provider needs its key stored first.
    await setSecret(db, randomBytes(32), owner.id, projectId, {
      name: "ANTHROPIC_API_KEY",
      kind: "model_api_key",
      value: "sk-ant-test-key",
    });
    await updateProjectSettings(db, owner.id, projectId, {
      maxDepth: 10,
      maxChildren: "1",
      maxActiveDispatched: 50,
      maxRetries: 0,
      stopGraceSeconds: "30",
      harness: "claude-code",
      model: "anthropic:claude-sonnet-4-5",
    });

    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({
      maxDepth: 10,
      maxChildren: 1,
      maxActiveDispatched: 50,
      maxRetries: 0,
      stopGraceSeconds: 30,
      harness: "claude-code",
      model: "anthropic:claude-sonnet-4-5",
    });

    // A partial update leaves the other settings alone.
    await updateProjectSettings(db, owner.id, projectId, { maxDepth: 2 });
    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({ maxDepth: 2, maxChildren: 1 });
  });

  test("an archived project leaves the default list, stays reachable, and comes back when unarchived", async () => {
    await setProjectArchived(db, owner.id, projectId, true);

    expect(await listProjects(db, owner.id)).toEqual([]);
    expect((await listProjects(db, owner.id, { includeArchived: true })).map((p) => p.id)).toEqual([projectId]);
    expect(await listAllProjects(db, "operator")).toEqual([]);
    expect((await getProjectForUser(db, owner.id, projectId)).archivedAt).toBeInstanceOf(Date);

    await setProjectArchived(db, owner.id, projectId, false);
    expect((await listProjects(db, owner.id)).map((p) => p.id)).toEqual([projectId]);
  });
});
