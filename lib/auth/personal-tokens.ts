import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { tokens } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { resolveIdPrefix } from "../ids/resolve-prefix";
import type { Requester } from "../users";
import { parseInput } from "../validation";
import { generateToken, hashToken } from "./tokens";

/** How long a personal token lives unless its maker says otherwise. */
export const PERSONAL_TOKEN_DAYS = 90;
const MAX_DAYS = 3650;
const DAY_MS = 86_400_000;
// Recording every use would write on every API call; once a minute says enough about "last used".
const LAST_USED_RESOLUTION_MS = 60_000;

export const mintPersonalTokenSchema = z
  .object({
    name: z.string().trim().min(1, { message: "Give the token a name" }).max(100),
    days: z.coerce
      .number({ message: `must be a whole number of days (1-${MAX_DAYS})` })
      .int({ message: `must be a whole number of days (1-${MAX_DAYS})` })
      .min(1, { message: `must be a whole number of days (1-${MAX_DAYS})` })
      .max(MAX_DAYS, { message: `must be a whole number of days (1-${MAX_DAYS})` })
      .default(PERSONAL_TOKEN_DAYS),
  })
  .strict();

/**
 * A token that acts as its user on the HTTP API (scripts, benchmarks). It expires (90 days unless
 * `days` says otherwise) and is stored only as a hash: the token itself is returned once, here.
 */
export async function mintPersonalToken(
  db: Db,
  userId: string,
  input: z.input<typeof mintPersonalTokenSchema>,
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const { name, days } = parseInput(mintPersonalTokenSchema, input);
  const token = `samp_${generateToken()}`;
  const id = newId();
  const expiresAt = new Date(Date.now() + days * DAY_MS);
  await db.insert(tokens).values({ id, kind: "personal", tokenHash: hashToken(token), name, userId, expiresAt });
  return { id, token, expiresAt };
}

/** The user a personal token speaks for, or an `unauthenticated` error; its use is recorded. */
export async function authenticatePersonalToken(db: Db, token: string): Promise<string> {
  const now = new Date();
  const row = await db.query.tokens.findFirst({
    where: and(
      eq(tokens.tokenHash, hashToken(token)),
      eq(tokens.kind, "personal"),
      isNull(tokens.revokedAt),
      gt(tokens.expiresAt, now),
    ),
    columns: { id: true, userId: true, lastUsedAt: true },
  });
  if (!row?.userId) throw new SamError("unauthenticated", "The token is invalid, revoked or expired");
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.update(tokens).set({ lastUsedAt: now }).where(eq(tokens.id, row.id));
  }
  return row.userId;
}

export type PersonalTokenStatus = "active" | "expired" | "revoked";

export interface PersonalToken {
  id: string;
  name: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  status: PersonalTokenStatus;
}

function statusOf(row: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): PersonalTokenStatus {
  if (row.revokedAt) return "revoked";
  if (!row.expiresAt || row.expiresAt <= now) return "expired";
  return "active";
}

/** A user's personal tokens, newest first, with whether each still works; never the tokens themselves. */
export async function listPersonalTokens(db: Db, userId: string): Promise<PersonalToken[]> {
  const rows = await db
    .select({
      id: tokens.id,
      name: tokens.name,
      userId: tokens.userId,
      createdAt: tokens.createdAt,
      expiresAt: tokens.expiresAt,
      lastUsedAt: tokens.lastUsedAt,
      revokedAt: tokens.revokedAt,
    })
    .from(tokens)
    .where(and(eq(tokens.kind, "personal"), eq(tokens.userId, userId)))
    // Tokens made in the same millisecond keep the order they were made in.
    .orderBy(desc(tokens.createdAt), desc(sql`rowid`));
  const now = new Date();
  return rows.map((r) => ({ ...r, name: r.name ?? "", userId: r.userId ?? userId, status: statusOf(r, now) }));
}

/**
 * Revokes a personal token by its id or a unique prefix of at least 8 characters: the requester's own,
 * or anyone's for the operator at the command line. Revoking a revoked token is a no-op.
 */
export async function revokePersonalToken(db: Db, requester: Requester, idOrPrefix: string): Promise<PersonalToken> {
  const id = await resolveIdPrefix(db, "personal token", requester, idOrPrefix);
  const match = await db.query.tokens.findFirst({ where: eq(tokens.id, id), columns: { id: true, userId: true } });
  if (!match?.userId) throw new SamError("not_found", `No personal token ${idOrPrefix.trim()}`);
  await db
    .update(tokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(tokens.id, match.id), isNull(tokens.revokedAt)));
  const revoked = (await listPersonalTokens(db, match.userId)).find((t) => t.id === match.id);
  if (!revoked) throw new SamError("internal", "The token disappeared while it was revoked");
  return revoked;
}
