import { and, eq, ne } from "drizzle-orm";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { acceptInvitations, type Identity } from "../projects/invitations";

/**
 * What every sign-in records: a GitHub user's current login (owners invite people by it; a login
 * renamed away no longer names its old holder) and the memberships that the person's open
 * invitations become.
 */
export async function completeSignIn(
  db: Db,
  userId: string,
  who: { githubLogin?: string; identities: Identity[] },
): Promise<void> {
  if (who.githubLogin) {
    const login = who.githubLogin.toLowerCase();
    await db.batch([
      db
        .update(users)
        .set({ githubLogin: null })
        .where(and(eq(users.githubLogin, login), ne(users.id, userId))),
      db.update(users).set({ githubLogin: login }).where(eq(users.id, userId)),
    ]);
  }
  await acceptInvitations(db, userId, who.identities);
}
