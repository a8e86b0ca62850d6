import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tokens } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { generateToken, hashToken } from "./tokens";

export interface LoginLink {
  url: string;
  expiresAt: Date;
}

/** Mints a one-time sign-in link for a user; it works once and expires after `ttlMs`. */
export async function createLoginLink(
  db: Db,
  opts: { userId: string; baseUrl: string; ttlMs: number },
): Promise<LoginLink> {
  const token = generateToken();
  const expiresAt = new Date(Date.now() + opts.ttlMs);
  await db.insert(tokens).values({
    id: newId(),
    kind: "login",
    tokenHash: hashToken(token),
    userId: opts.userId,
    expiresAt,
  });
  return { url: `${opts.baseUrl}/login/${token}`, expiresAt };
}

function usableLoginToken(token: string) {
  return and(
    eq(tokens.tokenHash, hashToken(token)),
    eq(tokens.kind, "login"),
    isNull(tokens.usedAt),
    isNull(tokens.revokedAt),
    gt(tokens.expiresAt, new Date()),
  );
}

/** Whether a link could still be used, without using it (the page shows this before sign-in). */
export async function isLoginLinkUsable(db: Db, token: string): Promise<boolean> {
  const row = await db.query.tokens.findFirst({ where: usableLoginToken(token), columns: { id: true } });
  return row !== undefined;
}

/** Uses a link: returns its user, or refuses a link that is unknown, used, revoked or expired. */
export async function consumeLoginLink(db: Db, token: string): Promise<string> {
  // Invariant: a link signs in once. The claim is one conditional UPDATE, so two concurrent uses
  // cannot both succeed.
  const claimed = await db
    .update(tokens)
    .set({ usedAt: sql`(cast(unixepoch('subsec') * 1000 as integer))` })
    .where(usableLoginToken(token))
    .returning({ userId: tokens.userId });
  const userId = claimed[0]?.userId;
  if (!userId) {
    throw new SamError(
      "unauthenticated",
      "This sign-in link is invalid, expired or already used. Run `npx sam login-link` for a new one.",
    );
  }
  return userId;
}
