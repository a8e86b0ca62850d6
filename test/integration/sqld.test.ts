import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Db, openDb } from "@/db/client";
import { applyMigrations } from "@/db/migrate";
import { makeSqldKeyPair, signSqldToken } from "@/db/sqld-auth";
import { consumeLoginLink, createLoginLink } from "@/lib/auth/login-links";
import { SamError, toSamError } from "@/lib/errors";
import {
  addMember,
  createProject,
  getProjectForUser,
  listMembers,
  listProjects,
  removeMember,
  updateProjectSettings,
} from "@/lib/projects/projects";
import { setSecret } from "@/lib/secrets/store";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { runSam } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { type SqldServer, startSqld } from "../helpers/sqld";
import { makeTempDir } from "../helpers/temp-dir";

const journal = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, "../../db/migrations/meta/_journal.json"), "utf8"),
) as { entries: unknown[] };

let tmp: ReturnType<typeof makeTempDir>;
let server: SqldServer;
let db: Db;
const clients: Db[] = [];

/** A client of its own, as a separate web app instance would have. */
function connect(): Db {
  const client = openDb({ url: server.url, authToken: server.authToken });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  tmp = makeTempDir("sam-sqld-");
  server = await startSqld(tmp.dir);
  db = connect();
  await applyMigrations(db);
});

afterAll(async () => {
  for (const client of clients) client.$client.close();
  await server?.stop();
  tmp?.cleanup();
});

async function outcome(promise: Promise<string>): Promise<string> {
  return promise.then(
    () => "ok",
    (err: unknown) => (SamError.is(err) ? err.code : `unexpected:${String(err)}`),
  );
}

describe("against a real sqld server", () => {
  test("the migrations apply over HTTP, and applying them again changes nothing", async () => {
    expect(db.$client.protocol).toBe("http");

    const tables = await db.$client.execute("SELECT name FROM sqlite_master WHERE type = 'table'");
    const names = tables.rows.map((r) => r.name);
    for (const table of ["users", "projects", "project_members", "tasks", "task_events", "tokens", "secrets"]) {
      expect(names).toContain(table);
    }
    const applied = async () => (await db.$client.execute("SELECT count(*) AS n FROM __drizzle_migrations")).rows[0]?.n;
    expect(await applied()).toBe(journal.entries.length);

    await applyMigrations(db);
    await applyMigrations(connect());
    expect(await applied()).toBe(journal.entries.length);
  });

  test("a project with members and settings round-trips, and a second client sees it", async () => {
    const owner = await ensureInstanceOwner(db);
    await createLocalUser(db, { email: "sqld-member@example.com" });
    const repo = makeGitRepo(path.join(tmp.dir, "repo"), { branch: "trunk" });

    const project = await createProject(db, owner.id, { repo, name: "Over sqld" });
    await addMember(db, owner.id, project.id, { email: "sqld-member@example.com" });
    await setSecret(db, randomBytes(32), owner.id, project.id, {
      name: "OPENAI_API_KEY",
      kind: "model_api_key",
      value: "sk-test-key",
    });
    await updateProjectSettings(db, owner.id, project.id, { maxDepth: 7, model: "openai:gpt-5" });

    const other = connect();
    expect(await getProjectForUser(other, owner.id, project.id)).toMatchObject({
      name: "Over sqld",
      defaultBranch: "trunk",
      maxDepth: 7,
      model: "openai:gpt-5",
      role: "owner",
    });
    expect((await listMembers(other, owner.id, project.id)).map((m) => m.role).sort()).toEqual(["member", "owner"]);
    const refused = await outcome(
      updateProjectSettings(other, owner.id, project.id, { maxChildren: 99 }).then(() => ""),
    );
    expect(refused).toBe("invalid_input");
  });

  test("the last owner cannot be removed: the guard in the DELETE holds over HTTP", async () => {
    const owner = await ensureInstanceOwner(db);
    const project = await createProject(db, owner.id, { repo: makeGitRepo(path.join(tmp.dir, "guarded")) });

    await expect(removeMember(db, owner.id, project.id, owner.id)).rejects.toMatchObject({ code: "conflict" });
    expect(await listMembers(db, owner.id, project.id)).toHaveLength(1);
  });

  test("a login link works once", async () => {
    const owner = await ensureInstanceOwner(db);
    const link = await createLoginLink(db, { userId: owner.id, baseUrl: "http://sam.test", ttlMs: 60_000 });
    const token = link.url.split("/login/")[1]!;

    expect(await consumeLoginLink(db, token)).toBe(owner.id);
    await expect(consumeLoginLink(connect(), token)).rejects.toMatchObject({ code: "unauthenticated" });
  });

  test("two clients using the same link at the same moment: exactly one wins, every time", async () => {
    const owner = await ensureInstanceOwner(db);
    const [a, b] = [connect(), connect()];
    for (let round = 0; round < 5; round++) {
      const link = await createLoginLink(db, { userId: owner.id, baseUrl: "http://sam.test", ttlMs: 60_000 });
      const token = link.url.split("/login/")[1]!;
      const results = await Promise.all(
        [a, b, a, b].map((client) => outcome(consumeLoginLink(client, token).then(() => "ok"))),
      );
      expect(
        results.filter((r) => r === "ok"),
        `round ${round}: ${results.join(", ")}`,
      ).toHaveLength(1);
      expect(results.filter((r) => r === "unauthenticated")).toHaveLength(3);
    }
  });

  test("the sam CLI works against the server through DATABASE_URL", async () => {
    const repo = makeGitRepo(path.join(tmp.dir, "cli-repo"), { branch: "trunk" });
    const env = {
      SAM_DATA_DIR: path.join(tmp.dir, "cli-data"),
      DATABASE_URL: server.url,
      DATABASE_AUTH_TOKEN: server.authToken,
    };

    const add = await runSam(["project", "add", repo, "--json"], env);
    expect(add.code, add.stderr).toBe(0);
    const { id } = JSON.parse(add.stdout);

    const owner = await ensureInstanceOwner(db);
    expect((await listProjects(db, owner.id)).map((p) => p.id)).toContain(id);
    // Nothing went to a local file: the data dir holds no database.
    expect(fs.existsSync(path.join(env.SAM_DATA_DIR, "sam.db"))).toBe(false);
  });

  test("a client without a token, with an expired one or one signed by another key is refused", async () => {
    const stranger = makeSqldKeyPair();
    const tokens = {
      none: undefined,
      expired: server.signToken({ expiresAt: new Date(Date.now() - 3_600_000) }),
      "another key": signSqldToken(stranger.privateKeyPem),
    };
    for (const [name, authToken] of Object.entries(tokens)) {
      const intruder = openDb({ url: server.url, authToken });
      clients.push(intruder);
      await expect(
        intruder.$client.execute("CREATE TABLE intruder (x)"),
        `a client with ${name === "none" ? "no token" : `a token signed by ${name}`}`,
      ).rejects.toThrow(/401|Unauthorized|authenticat/i);
      await expect(intruder.$client.execute("SELECT count(*) FROM users"), name).rejects.toThrow();
    }
    const tables = await db.$client.execute("SELECT name FROM sqlite_master WHERE name = 'intruder'");
    expect(tables.rows).toEqual([]);
  });

  test("concurrent guarded writes from many clients all succeed: no SQLITE_BUSY reaches the caller", async () => {
    const owner = await ensureInstanceOwner(db);
    const writers = Array.from({ length: 6 }, () => connect());
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        outcome(
          createLoginLink(writers[i % writers.length]!, {
            userId: owner.id,
            baseUrl: "http://sam.test",
            ttlMs: 60_000,
          }).then((link) => consumeLoginLink(writers[(i + 1) % writers.length]!, link.url.split("/login/")[1]!)),
        ),
      ),
    );
    expect(results.filter((r) => r !== "ok")).toEqual([]);
  });

  test("a database that cannot be reached is `unavailable`, not an internal error", async () => {
    const gone = await startSqld(makeTempDir("sam-sqld-gone-").dir);
    const client = openDb({ url: gone.url, authToken: gone.authToken });
    clients.push(client);
    await gone.stop();
    const failure = await ensureInstanceOwner(client).then(
      () => undefined,
      (err: unknown) => toSamError(err),
    );
    expect(failure).toMatchObject({
      code: "unavailable",
      message: expect.stringMatching(/^The database cannot be reached \(.*ECONNREFUSED.*\); try again shortly$/),
    });
  });
});
