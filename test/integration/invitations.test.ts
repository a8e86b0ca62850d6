import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Db } from "@/db/client";
import { projectInvitations } from "@/db/schema";
import { listPersonalTokens, mintPersonalToken, revokePersonalToken } from "@/lib/auth/personal-tokens";
import { completeSignIn } from "@/lib/auth/sign-in";
import { SamError } from "@/lib/errors";
import {
  acceptInvitations,
  hasOpenInvitation,
  inviteMember,
  lastAcceptedProject,
  listInvitations,
  revokeInvitation,
} from "@/lib/projects/invitations";
import { addMember, createProject, listMembers } from "@/lib/projects/projects";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

let db: Db;
let cleanups: (() => void)[];
let owner: User;
let projectId: string;

beforeEach(async () => {
  const testDb = await makeTestDb();
  const dir = makeTempDir("sam-invitations-");
  db = testDb.db;
  cleanups = [testDb.cleanup, dir.cleanup];
  owner = await ensureInstanceOwner(db);
  projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "repo")) })).id;
});
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
});

async function samErrorOf(promise: Promise<unknown>): Promise<SamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!SamError.is(err)) throw new Error(`expected a SamError, got ${String(err)}`);
  return err;
}

let accounts = 0;
/** A user who signed in with GitHub as `login`, as Auth.js's adapter makes them. */
async function githubUser(login: string): Promise<User> {
  const user = await createLocalUser(db, { email: `gh-${++accounts}@users.example.com`, name: login });
  await completeSignIn(db, user.id, { githubLogin: login, identities: [] });
  return user;
}

describe("inviting people to a project", () => {
  test("an email or a GitHub login without an account becomes an open invitation, named as typed but lowercased", async () => {
    const byEmail = await inviteMember(db, owner.id, projectId, { invitee: " Ada@Example.com " });
    const byLogin = await inviteMember(db, owner.id, projectId, { invitee: "@Octo-Cat", role: "owner" });
    expect(byEmail).toMatchObject({
      kind: "invitation",
      invitation: { inviteeKind: "email", invitee: "ada@example.com" },
    });
    expect(byLogin).toMatchObject({
      kind: "invitation",
      invitation: { inviteeKind: "github", invitee: "octo-cat", role: "owner" },
    });
    expect((await listInvitations(db, owner.id, projectId)).map((i) => i.invitee).sort()).toEqual([
      "ada@example.com",
      "octo-cat",
    ]);
  });

  test("someone who already has an account, by email or GitHub login, becomes a member at once", async () => {
    const local = await createLocalUser(db, { email: "local@example.com" });
    const gh = await githubUser("hubber");
    expect(await inviteMember(db, owner.id, projectId, { invitee: "LOCAL@example.com" })).toMatchObject({
      kind: "member",
      member: { userId: local.id, role: "member" },
    });
    expect(await inviteMember(db, owner.id, projectId, { invitee: "hubber" })).toMatchObject({
      kind: "member",
      member: { userId: gh.id, githubLogin: "hubber" },
    });
    expect(await listInvitations(db, owner.id, projectId)).toEqual([]);
  });

  test("what is neither an email nor a GitHub login is refused with the field named", async () => {
    for (const invitee of ["", "not a login", "-leading", "a@b", "x".repeat(40)]) {
      const err = await samErrorOf(inviteMember(db, owner.id, projectId, { invitee }));
      expect(err.code, invitee).toBe("invalid_input");
      expect(
        err.details?.fields?.map((f) => f.field),
        invitee,
      ).toEqual(["invitee"]);
    }
  });

  test("only an owner invites or withdraws; a member may see the open invitations", async () => {
    const member = await createLocalUser(db, { email: "member@example.com" });
    await addMember(db, owner.id, projectId, { email: "member@example.com" });
    expect((await samErrorOf(inviteMember(db, member.id, projectId, { invitee: "someone" }))).code).toBe("forbidden");
    const { invitation } = (await inviteMember(db, owner.id, projectId, { invitee: "someone" })) as {
      invitation: { id: string };
    };
    expect((await listInvitations(db, member.id, projectId)).map((i) => i.id)).toEqual([invitation.id]);
    expect((await samErrorOf(revokeInvitation(db, member.id, projectId, invitation.id))).code).toBe("forbidden");
    await revokeInvitation(db, owner.id, projectId, invitation.id);
    expect(await listInvitations(db, owner.id, projectId)).toEqual([]);
    expect((await samErrorOf(revokeInvitation(db, owner.id, projectId, invitation.id))).code).toBe("not_found");
  });

  test("inviting the same person again renews the invitation with the new role", async () => {
    await inviteMember(db, owner.id, projectId, { invitee: "again" });
    await inviteMember(db, owner.id, projectId, { invitee: "AGAIN", role: "owner" });
    expect((await listInvitations(db, owner.id, projectId)).map((i) => [i.invitee, i.role])).toEqual([
      ["again", "owner"],
    ]);
  });
});

describe("the first sign-in of an invited person", () => {
  test("turns each matching invitation into a membership once, and lands in the latest one's project", async () => {
    await inviteMember(db, owner.id, projectId, { invitee: "newcomer" });
    await inviteMember(db, owner.id, projectId, { invitee: "newcomer@example.com", role: "owner" });
    const identities = [
      { kind: "github" as const, value: "newcomer" },
      { kind: "email" as const, value: "newcomer@example.com" },
    ];
    expect(await hasOpenInvitation(db, identities)).toBe(true);

    const user = await createLocalUser(db, { email: "newcomer@example.com" });
    await completeSignIn(db, user.id, { githubLogin: "newcomer", identities });
    expect(await listMembers(db, owner.id, projectId)).toContainEqual(
      expect.objectContaining({ userId: user.id, role: "owner" }),
    );
    expect(await hasOpenInvitation(db, identities)).toBe(false);
    expect(await lastAcceptedProject(db, user.id)).toBe(projectId);

    // A second account with the same identities finds nothing left to accept.
    const other = await createLocalUser(db, { email: "other@example.com" });
    await acceptInvitations(db, other.id, identities);
    expect((await listMembers(db, owner.id, projectId)).map((m) => m.userId)).not.toContain(other.id);
  });

  test("keeps an existing owner's role when the invitation says member", async () => {
    const user = await createLocalUser(db, { email: "boss@example.com" });
    await addMember(db, owner.id, projectId, { email: "boss@example.com", role: "owner" });
    await db.insert(projectInvitations).values({
      id: "inv-1",
      projectId,
      inviteeKind: "email",
      invitee: "boss@example.com",
      role: "member",
      expiresAt: new Date(Date.now() + 60_000),
    });
    await acceptInvitations(db, user.id, [{ kind: "email", value: "boss@example.com" }]);
    expect((await listMembers(db, owner.id, projectId)).find((m) => m.userId === user.id)?.role).toBe("owner");
  });

  test("ignores an expired invitation: it neither admits nor makes a member", async () => {
    await inviteMember(db, owner.id, projectId, { invitee: "late" });
    await db.update(projectInvitations).set({ expiresAt: new Date(Date.now() - 1000) });
    const identities = [{ kind: "github" as const, value: "late" }];
    expect(await hasOpenInvitation(db, identities)).toBe(false);
    const user = await createLocalUser(db, { email: "late@example.com" });
    await completeSignIn(db, user.id, { githubLogin: "late", identities });
    expect((await listMembers(db, owner.id, projectId)).map((m) => m.userId)).not.toContain(user.id);
    expect(await listInvitations(db, owner.id, projectId)).toEqual([]);
  });

  test("a GitHub login renamed away no longer names its old holder", async () => {
    const first = await githubUser("handle");
    const second = await githubUser("handle");
    expect(await inviteMember(db, owner.id, projectId, { invitee: "handle" })).toMatchObject({
      kind: "member",
      member: { userId: second.id },
    });
    expect((await listMembers(db, owner.id, projectId)).map((m) => m.userId)).not.toContain(first.id);
  });
});

describe("personal tokens", () => {
  test("are listed newest first with their status, and revoked by a unique prefix of their own user's tokens", async () => {
    const other = await createLocalUser(db, { email: "other@example.com" });
    const a = await mintPersonalToken(db, owner.id, { name: "a" });
    const b = await mintPersonalToken(db, owner.id, { name: "b", days: 7 });
    const theirs = await mintPersonalToken(db, other.id, { name: "theirs" });
    expect((await listPersonalTokens(db, owner.id)).map((t) => [t.name, t.status])).toEqual([
      ["b", "active"],
      ["a", "active"],
    ]);

    expect((await samErrorOf(revokePersonalToken(db, { userId: owner.id }, theirs.id))).code).toBe("not_found");
    expect((await samErrorOf(revokePersonalToken(db, { userId: owner.id }, a.id.slice(0, 7)))).code).toBe(
      "invalid_input",
    );
    const revoked = await revokePersonalToken(db, { userId: owner.id }, a.id.slice(0, 8).toUpperCase());
    expect(revoked).toMatchObject({ id: a.id, status: "revoked" });
    expect((await listPersonalTokens(db, owner.id)).map((t) => t.status)).toEqual(["active", "revoked"]);
    expect((await revokePersonalToken(db, "operator", theirs.id)).status).toBe("revoked");
    expect(b.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
  });

  test("a token's life is 1 to 3650 days, 90 unless said otherwise", async () => {
    const { expiresAt } = await mintPersonalToken(db, owner.id, { name: "default" });
    expect(Math.round((expiresAt.getTime() - Date.now()) / 86_400_000)).toBe(90);
    for (const days of [0, 3651, 1.5]) {
      const err = await samErrorOf(mintPersonalToken(db, owner.id, { name: "x", days }));
      expect(
        err.details?.fields?.map((f) => f.field),
        String(days),
      ).toEqual(["days"]);
    }
  });
});
