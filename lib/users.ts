import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { SamError } from "./errors";
import { newId } from "./ids";
import { parseInput } from "./validation";

export type User = typeof users.$inferSelect;

/** The local owner account of this instance, created on first use. */
export async function ensureInstanceOwner(db: Db): Promise<User> {
  // Invariant: at most one instance owner, even when several processes start at once.
  await db.run(sql`
    INSERT INTO users (id, name, is_instance_owner)
    SELECT ${newId()}, 'Owner', 1
    WHERE NOT EXISTS (SELECT 1 FROM users WHERE is_instance_owner = 1)`);
  const owner = await db.query.users.findFirst({
    where: eq(users.isInstanceOwner, true),
    orderBy: users.createdAt,
  });
  if (!owner) throw new SamError("internal", "The instance owner could not be created");
  return owner;
}

const newLocalUserSchema = z.object({
  email: z.email({ message: "must be an email address" }).max(320),
  name: z.string().trim().min(1).max(200).optional(),
});
export type NewLocalUser = z.input<typeof newLocalUserSchema>;

/** Adds a local user, who signs in through one-time links minted on the server host. */
export async function createLocalUser(db: Db, input: NewLocalUser): Promise<User> {
  const { email, name } = parseInput(newLocalUserSchema, input);
  const normalized = email.toLowerCase();
  const inserted = await db
    .insert(users)
    .values({ id: newId(), email: normalized, name: name ?? normalized.split("@")[0] })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return inserted[0];
  throw new SamError("conflict", `A user with email ${normalized} already exists`);
}

export async function findUserByEmail(db: Db, email: string): Promise<User> {
  const user = await db.query.users.findFirst({ where: eq(users.email, email.trim().toLowerCase()) });
  if (!user) throw new SamError("not_found", `No user with email ${email}`);
  return user;
}

/**
 * Who asks for something only an admin may do: a user of the app or API, or the operator at the
 * server's command line, who holds the data dir and so every right already.
 */
export type Requester = { userId: string } | "operator";

/**
 * Whether the requester is the instance admin. The admin is the instance owner: the first user,
 * created when the instance first starts, before anyone can sign in.
 */
export async function isAdmin(db: Db, requester: Requester): Promise<boolean> {
  if (requester === "operator") return true;
  return (await getUser(db, requester.userId))?.isInstanceOwner === true;
}

export async function requireAdmin(db: Db, requester: Requester, what: string): Promise<void> {
  if (!(await isAdmin(db, requester))) throw new SamError("forbidden", `Only the instance admin can ${what}`);
}

export async function getUser(db: Db, id: string): Promise<User | undefined> {
  return db.query.users.findFirst({ where: eq(users.id, id) });
}

export async function listUsers(db: Db): Promise<User[]> {
  return db.query.users.findMany({ orderBy: users.createdAt });
}
