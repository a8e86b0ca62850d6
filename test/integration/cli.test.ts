import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { openDb } from "@/db/client";
import { consumeLoginLink } from "@/lib/auth/login-links";
import { ensureInstanceOwner, findUserByEmail } from "@/lib/users";
import { runSam, type SamRun } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/** A fresh instance for one test: its own data dir, so that tests can run side by side. */
function newInstance(onTestFinished: (fn: () => void) => void) {
  const tmp = makeTempDir("sam-cli-");
  onTestFinished(tmp.cleanup);
  const dataDir = path.join(tmp.dir, "data");
  return {
    dir: tmp.dir,
    sam: (args: string[], env: Record<string, string> = {}) => runSam(args, { SAM_DATA_DIR: dataDir, ...env }),
    /** Opens the database the CLI wrote, to check what it did from the server's side. */
    async withDb<T>(fn: (db: ReturnType<typeof openDb>) => Promise<T>): Promise<T> {
      const db = openDb({ url: `file:${path.join(dataDir, "sam.db")}` });
      try {
        return await fn(db);
      } finally {
        db.$client.close();
      }
    },
  };
}

function tokenOf(url: string): string {
  return url.slice(url.lastIndexOf("/login/") + "/login/".length);
}

/** A failure is reported on one line of stderr, with no stack trace and nothing on stdout. */
function expectCleanFailure(run: SamRun, code: number, mentions: RegExp) {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe("");
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(run.stderr).toMatch(/^sam: /);
  expect(run.stderr).toMatch(mentions);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

// Every test spawns real processes and has its own instance, so they run concurrently.
describe.concurrent("sam CLI", () => {
  test("--help lists the commands and exits 0", async ({ onTestFinished }) => {
    const { sam } = newInstance(onTestFinished);
    const run = await sam(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: sam <command>/);
    for (const command of ["login-link", "project", "user"]) expect(run.stdout).toContain(command);

    const sub = await sam(["project", "add", "--help"]);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/Usage: sam project add <path-or-url>/);
  });

  test("project add on a git repository prints it as JSON and project list --json contains it", async ({
    onTestFinished,
  }) => {
    const { dir, sam } = newInstance(onTestFinished);
    const repo = makeGitRepo(path.join(dir, "demo-repo"), { branch: "trunk" });

    const add = await sam(["project", "add", repo, "--name", "Demo", "--json"]);
    expect(add.code, add.stderr).toBe(0);
    const project = JSON.parse(add.stdout);
    expect(project).toMatchObject({
      name: "Demo",
      repo: fs.realpathSync(repo),
      repoKind: "local",
      defaultBranch: "trunk",
      role: "owner",
    });
    expect(project.id).toMatch(/^[0-9a-f-]{36}$/);

    const list = await sam(["project", "list", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const projects = JSON.parse(list.stdout);
    expect(Array.isArray(projects)).toBe(true);
    expect(projects).toContainEqual(
      expect.objectContaining({ id: project.id, name: "Demo", repo: project.repo, defaultBranch: "trunk" }),
    );

    const plain = await sam(["project", "list"]);
    expect(plain.stdout).toContain(project.id);
    expect(plain.stdout).toContain("Demo");
  });

  test("project add --owner gives the project to that user and not to the instance owner", async ({
    onTestFinished,
  }) => {
    const { dir, sam } = newInstance(onTestFinished);
    const repo = makeGitRepo(path.join(dir, "repo"));
    expect((await sam(["user", "add", "ada@example.com", "--name", "Ada"])).code).toBe(0);

    const add = await sam(["project", "add", repo, "--owner", "ada@example.com", "--json"]);
    expect(add.code, add.stderr).toBe(0);
    const { id } = JSON.parse(add.stdout);

    const ada = JSON.parse((await sam(["project", "list", "--user", "ada@example.com", "--json"])).stdout);
    const owner = JSON.parse((await sam(["project", "list", "--json"])).stdout);
    const all = JSON.parse((await sam(["project", "list", "--all", "--json"])).stdout);
    expect(ada.map((p: { id: string }) => p.id)).toEqual([id]);
    expect(owner).toEqual([]);
    expect(all.map((p: { id: string }) => p.id)).toEqual([id]);
  });

  test("login-link prints a sign-in URL alone on its line, and that link signs the owner in once", async ({
    onTestFinished,
  }) => {
    const { sam, withDb } = newInstance(onTestFinished);
    const run = await sam(["login-link"], { SAM_PUBLIC_URL: "https://sam.example.com/" });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const url = lines[0]!;
    expect(url).toMatch(/^https:\/\/sam\.example\.com\/login\/[A-Za-z0-9_-]{43}$/);

    await withDb(async (db) => {
      const owner = await ensureInstanceOwner(db);
      expect(await consumeLoginLink(db, tokenOf(url))).toBe(owner.id);
      await expect(consumeLoginLink(db, tokenOf(url))).rejects.toMatchObject({ code: "unauthenticated" });
    });
  });

  test("login-link --json gives the URL and an expiry within the configured lifetime", async ({ onTestFinished }) => {
    const { sam } = newInstance(onTestFinished);
    const before = Date.now();
    const run = await sam(["login-link", "--json"], { SAM_LOGIN_LINK_TTL_MINUTES: "5" });
    expect(run.code, run.stderr).toBe(0);
    const { url, expiresAt } = JSON.parse(run.stdout);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:3000\/login\//);
    const expires = Date.parse(expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 5 * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
  });

  test("login-link --user signs in as that user; an unknown user is refused", async ({ onTestFinished }) => {
    const { sam, withDb } = newInstance(onTestFinished);
    await sam(["user", "add", "grace@example.com"]);
    const run = await sam(["login-link", "--user", "grace@example.com"]);
    expect(run.code, run.stderr).toBe(0);
    await withDb(async (db) => {
      const grace = await findUserByEmail(db, "grace@example.com");
      expect(await consumeLoginLink(db, tokenOf(run.stdout.trim()))).toBe(grace.id);
    });

    expectCleanFailure(
      await sam(["login-link", "--user", "nobody@example.com"]),
      1,
      /No user with email nobody@example\.com/,
    );
  });

  test("an unknown flag exits 2 with a one-line message naming the flag", async ({ onTestFinished }) => {
    const { sam } = newInstance(onTestFinished);
    expectCleanFailure(await sam(["project", "list", "--bogus"]), 2, /unknown option --bogus/);
    expectCleanFailure(await sam(["login-link", "--verbose"]), 2, /unknown option --verbose/);
  });

  test("a missing argument, a missing option value and an unknown command each exit 2 naming the problem", async ({
    onTestFinished,
  }) => {
    const { sam } = newInstance(onTestFinished);
    expectCleanFailure(await sam(["project", "add"]), 2, /missing argument <path-or-url>/);
    expectCleanFailure(await sam(["project", "add", "x", "--name"]), 2, /--name <value>.*argument missing/);
    expectCleanFailure(await sam(["deploy"]), 2, /unknown command "deploy"/);
    expectCleanFailure(await sam(["project", "remove"]), 2, /unknown command "sam project remove"/);
    expectCleanFailure(await sam([]), 2, /missing command/);
  });

  test("project add on a path that is not a repository exits 1 naming the problem and stores nothing", async ({
    onTestFinished,
  }) => {
    const { dir, sam } = newInstance(onTestFinished);
    const plainDir = path.join(dir, "not-a-repo");
    fs.mkdirSync(plainDir);
    expectCleanFailure(await sam(["project", "add", plainDir]), 1, /Not a git repository: .*not-a-repo/);
    expectCleanFailure(await sam(["project", "add", path.join(dir, "missing")]), 1, /No such path: .*missing/);
    expectCleanFailure(await sam(["project", "add", "https://"]), 1, /Malformed repository URL/);

    const list = await sam(["project", "list", "--all", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  test("user add with an email already taken fails clearly, and the user is listed once", async ({
    onTestFinished,
  }) => {
    const { sam } = newInstance(onTestFinished);
    const first = await sam(["user", "add", "Lin@Example.com", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ email: "lin@example.com", name: "lin" });

    expectCleanFailure(
      await sam(["user", "add", "lin@example.com"]),
      1,
      /user with email lin@example\.com already exists/,
    );

    const users = JSON.parse((await sam(["user", "list", "--json"])).stdout);
    expect(users.filter((u: { email: string }) => u.email === "lin@example.com")).toHaveLength(1);
  });

  test("a bad environment variable exits 1 naming the variable", async ({ onTestFinished }) => {
    const { sam } = newInstance(onTestFinished);
    expectCleanFailure(await sam(["project", "list"], { PORT: "eighty" }), 1, /PORT must be a port number/);
    expectCleanFailure(
      await sam(["project", "list"], { DATABASE_URL: "postgres://db/sam" }),
      1,
      /DATABASE_URL must start with/,
    );
  });

  test("an unreachable database exits 1 with one line naming it", async ({ onTestFinished }) => {
    const { sam } = newInstance(onTestFinished);
    // Nothing listens on this port: libSQL over HTTP is refused at once.
    const run = await sam(["project", "list"], { DATABASE_URL: "http://127.0.0.1:59999" });
    expectCleanFailure(run, 1, /Cannot use the database at http:\/\/127\.0\.0\.1:59999\/: .*ECONNREFUSED/);
  });
});
