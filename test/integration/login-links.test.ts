import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type Db, openDb } from "@/db/client";
import { consumeLoginLink, createLoginLink, isLoginLinkUsable } from "@/lib/auth/login-links";
import { hashToken } from "@/lib/auth/tokens";
import { SamError } from "@/lib/errors";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";

const BASE_URL = "http://127.0.0.1:3000";
const TTL = 15 * 60_000;

let db: Db;
let dir: string;
let cleanup: () => void;
let owner: User;

beforeEach(async () => {
  ({ db, dir, cleanup } = await makeTestDb());
  owner = await ensureInstanceOwner(db);
});
afterEach(() => cleanup());

function tokenOf(url: string): string {
  const match = /\/login\/([A-Za-z0-9_-]+)$/.exec(url);
  if (!match?.[1]) throw new Error(`not a sign-in URL: ${url}`);
  return match[1];
}

async function outcome(promise: Promise<string>): Promise<string> {
  return promise.then(
    (userId) => `ok:${userId}`,
    (err: unknown) => (SamError.is(err) ? err.code : `unexpected:${String(err)}`),
  );
}

describe("one-time sign-in links", () => {
  test("a link signs its user in once; the second use is refused", async () => {
    const link = await createLoginLink(db, { userId: owner.id, baseUrl: BASE_URL, ttlMs: TTL });
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:3000\/login\/[A-Za-z0-9_-]{43}$/);
    const token = tokenOf(link.url);

    expect(await isLoginLinkUsable(db, token)).toBe(true);
    expect(await consumeLoginLink(db, token)).toBe(owner.id);

    expect(await isLoginLinkUsable(db, token)).toBe(false);
    const second = consumeLoginLink(db, token);
    await expect(second).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(second).rejects.toThrow(/invalid, expired or already used.*sam login-link/);
  });

  test("a link is for the user it was minted for", async () => {
    const ada = await createLocalUser(db, { email: "ada@example.com" });
    const link = await createLoginLink(db, { userId: ada.id, baseUrl: BASE_URL, ttlMs: TTL });
    expect(await consumeLoginLink(db, tokenOf(link.url))).toBe(ada.id);
  });

  test("an expired link is refused, even though it was never used", async () => {
    const link = await createLoginLink(db, { userId: owner.id, baseUrl: BASE_URL, ttlMs: 100 });
    const token = tokenOf(link.url);
    expect(await isLoginLinkUsable(db, token)).toBe(true);

    await new Promise((r) => setTimeout(r, 250));

    expect(await isLoginLinkUsable(db, token)).toBe(false);
    await expect(consumeLoginLink(db, token)).rejects.toMatchObject({ code: "unauthenticated" });
  });

  test("a made-up token and another link's token with one character changed are refused", async () => {
    const link = await createLoginLink(db, { userId: owner.id, baseUrl: BASE_URL, ttlMs: TTL });
    const token = tokenOf(link.url);
    const altered = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    await expect(consumeLoginLink(db, "not-a-token")).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(consumeLoginLink(db, altered)).rejects.toMatchObject({ code: "unauthenticated" });
    expect(await consumeLoginLink(db, token)).toBe(owner.id);
  });

  test("only the token's hash is stored", async () => {
    const link = await createLoginLink(db, { userId: owner.id, baseUrl: BASE_URL, ttlMs: TTL });
    const token = tokenOf(link.url);
    const rows = await db.$client.execute("SELECT * FROM tokens WHERE kind = 'login'");
    expect(rows.rows).toHaveLength(1);
    expect(JSON.stringify(rows.rows)).not.toContain(token);
    expect(rows.rows[0]?.token_hash).toBe(hashToken(token));
  });

  test("20 concurrent uses of the same link, over several connections: exactly one succeeds", async () => {
    const link = await createLoginLink(db, { userId: owner.id, baseUrl: BASE_URL, ttlMs: TTL });
    const token = tokenOf(link.url);
    // Separate connections to the same file, as separate server processes would have.
    const connections = Array.from({ length: 4 }, () => openDb({ url: `file:${path.join(dir, "sam.db")}` }));
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => outcome(consumeLoginLink(connections[i % connections.length]!, token))),
      );
      expect(results.filter((r) => r === `ok:${owner.id}`)).toHaveLength(1);
      expect(results.filter((r) => r === "unauthenticated")).toHaveLength(19);
    } finally {
      for (const connection of connections) connection.$client.close();
    }
  });
});
