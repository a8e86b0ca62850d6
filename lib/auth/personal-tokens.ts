import { and, eq, gt, isNull, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tokens } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { generateToken, hashToken } from "./tokens";

/** A token that acts as its user on the HTTP API (scripts, benchmarks); stored only as a hash. */
export async function mintPersonalToken(db: Db, userId: string, name: string, ttlMs?: number): Promise<string> {
  const token = `samp_${generateToken()}`;
  await db.insert(tokens).values({
    id: newId(),
    kind: "personal",
    tokenHash: hashToken(token),
    name,
    userId,
    expiresAt: ttlMs ? new Date(Date.now() + ttlMs) : null,
  });
  return token;
}

/** The user a personal token speaks for, or an `unauthenticated` error. */
export async function authenticatePersonalToken(db: Db, token: string): Promise<string> {
  const row = await db.query.tokens.findFirst({
    where: and(
      eq(tokens.tokenHash, hashToken(token)),
      eq(tokens.kind, "personal"),
      isNull(tokens.revokedAt),
      or(isNull(tokens.expiresAt), gt(tokens.expiresAt, new Date())),
    ),
    columns: { userId: true },
  });
  if (!row?.userId) throw new SamError("unauthenticated", "The token is invalid, revoked or expired");
  return row.userId;
}
