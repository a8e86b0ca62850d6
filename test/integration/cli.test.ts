import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { openDb } from "@/db/client";
import { tasks } from "@/db/schema";
import { consumeLoginLink } from "@/lib/auth/login-links";
import { writeServerRecord } from "@/lib/running-server";
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
    dataDir,
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

  test("task commands take a unique 8-character prefix of a task or project id", async ({ onTestFinished }) => {
    const { dir, sam } = newInstance(onTestFinished);
    const project = JSON.parse((await sam(["project", "add", makeGitRepo(path.join(dir, "repo")), "--json"])).stdout);
    const created = await sam(["task", "create", "--project", project.id.slice(0, 8), "--prompt", "Look", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const task = JSON.parse(created.stdout);
    expect(task.projectId).toBe(project.id);
    const prefix = task.id.slice(0, 8);

    const shown = await sam(["task", "show", prefix, "--json"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: task.id, title: "Look" });
    const plain = await sam(["task", "show", prefix.toUpperCase()]);
    expect(plain.stdout).toContain(`Look (${task.id})`);

    const sent = await sam(["task", "send", prefix, "Carry on", "--json"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ messageId: expect.any(String) });
    const minted = await sam(["token", "mint", "--task", prefix]);
    expect(minted.code, minted.stderr).toBe(0);
    expect(minted.stdout.trim()).not.toBe("");
  });

  test("an id prefix shorter than 8 characters is a usage error naming the minimum", async ({ onTestFinished }) => {
    const { sam } = newInstance(onTestFinished);
    expectCleanFailure(
      await sam(["task", "show", "abc1234"]),
      2,
      /the task id or a unique prefix of at least 8 characters/,
    );
    expectCleanFailure(
      await sam(["task", "send", "abc", "hi"]),
      2,
      /the task id or a unique prefix of at least 8 characters/,
    );
    expectCleanFailure(
      await sam(["task", "create", "--project", "abc", "--prompt", "x"]),
      2,
      /the project id or a unique prefix of at least 8 characters/,
    );
    expectCleanFailure(
      await sam(["token", "mint", "--task", "abc"]),
      2,
      /the task id or a unique prefix of at least 8 characters/,
    );
    expectCleanFailure(
      await sam(["token", "revoke", "abc"]),
      2,
      /the personal token id or a unique prefix of at least 8 characters/,
    );
  });

  test("an ambiguous id prefix fails listing every match; an unknown one, or one with %, is not found", async ({
    onTestFinished,
  }) => {
    const { dir, sam, withDb } = newInstance(onTestFinished);
    const project = JSON.parse((await sam(["project", "add", makeGitRepo(path.join(dir, "repo")), "--json"])).stdout);
    const first = "abcdef12-0000-4000-8000-000000000001";
    const second = "abcdef12-1111-4000-8000-000000000002";
    await withDb(async (db) => {
      for (const [id, title] of [
        [first, "Fix the login form"],
        [second, "Write the guide"],
      ] as const) {
        await db
          .insert(tasks)
          .values({ id, projectId: project.id, rootId: id, lineageId: id, mode: "task", title, description: title });
      }
    });

    expectCleanFailure(
      await sam(["task", "show", "abcdef12"]),
      1,
      new RegExp(`abcdef12 matches several tasks: ${first} \\(Fix the login form\\), ${second} \\(Write the guide\\)`),
    );
    const exact = await sam(["task", "show", second, "--json"]);
    expect(JSON.parse(exact.stdout)).toMatchObject({ id: second });
    expect(JSON.parse((await sam(["task", "show", "abcdef12-1", "--json"])).stdout)).toMatchObject({ id: second });
    expectCleanFailure(await sam(["task", "show", "ffffffff"]), 1, /No task ffffffff/);
    // As LIKE patterns these would match both tasks.
    expectCleanFailure(await sam(["task", "show", "abcdef1%"]), 1, /No task abcdef1%/);
    expectCleanFailure(await sam(["task", "show", "abcdef1_"]), 1, /No task abcdef1_/);
  });

  test("token revoke takes a unique 8-character prefix of a personal token id", async ({ onTestFinished }) => {
    const { sam } = newInstance(onTestFinished);
    const minted = JSON.parse((await sam(["token", "personal", "--json"])).stdout);
    const revoked = await sam(["token", "revoke", minted.id.slice(0, 8), "--json"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: minted.id, status: "revoked" });
  });

  test("login-link uses the address a running server recorded in the data dir", async ({ onTestFinished }) => {
    const { sam, dataDir } = newInstance(onTestFinished);
    // This test's own process stands for the server: it is alive.
    writeServerRecord(dataDir, {
      url: "http://127.0.0.1:45678",
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });
    expect(fs.statSync(path.join(dataDir, "server.json")).mode & 0o777).toBe(0o600);
    const run = await sam(["login-link"], { SAM_PUBLIC_URL: "https://configured.example.com" });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^http:\/\/127\.0\.0\.1:45678\/login\/[A-Za-z0-9_-]{43}\n$/);
    expect(run.stderr).toBe("");
  });

  test("login-link without a running server uses the configured address and says so on stderr", async ({
    onTestFinished,
  }) => {
    const { sam, dataDir } = newInstance(onTestFinished);
    const configured = { SAM_PUBLIC_URL: "https://configured.example.com" };
    const none = await sam(["login-link"], configured);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/^https:\/\/configured\.example\.com\/login\//);
    expect(none.stderr).toMatch(/^sam: no running server was found for .*; the link uses https:\/\/configured/);

    // A server that was killed leaves its record behind; its process is gone.
    const ended = spawnSync(process.execPath, ["-e", ""]);
    writeServerRecord(dataDir, { url: "http://127.0.0.1:45678", pid: ended.pid!, startedAt: new Date().toISOString() });
    const stale = await sam(["login-link"], configured);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stdout).toMatch(/^https:\/\/configured\.example\.com\/login\//);
    expect(stale.stderr).toMatch(new RegExp(`\\(process ${ended.pid}\\) has stopped`));
  });

  test("login-link warns about a corrupt server record and falls back to the configured address", async ({
    onTestFinished,
  }) => {
    const { sam, dataDir } = newInstance(onTestFinished);
    await sam(["user", "list"]);
    const file = path.join(dataDir, "server.json");
    fs.writeFileSync(file, "{ not json");
    const garbled = await sam(["login-link", "--json"]);
    expect(garbled.code, garbled.stderr).toBe(0);
    expect(JSON.parse(garbled.stdout).url).toMatch(/^http:\/\/127\.0\.0\.1:3000\/login\//);
    expect(garbled.stderr).toContain(`sam: warning: ignoring ${file}: it is not JSON`);

    fs.writeFileSync(file, JSON.stringify({ url: "ftp://x", pid: "one" }));
    const invalid = await sam(["login-link"]);
    expect(invalid.code, invalid.stderr).toBe(0);
    expect(invalid.stderr).toMatch(
      /url must be an absolute http\(s\) URL; pid must be a process id; startedAt must be/,
    );
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
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
