import { and, eq, exists } from "drizzle-orm";
import type { Db } from "@/db/client";
import { accounts, projectMembers, users } from "@/db/schema";
import { hasOpenInvitation, type Identity } from "../projects/invitations";
import { organizationLogins, verifiedEmails } from "./github-api";

export interface GitHubAdmissionRules {
  apiUrl: string;
  /** Lowercased logins. */
  allowedUsers: string[];
  allowedOrgs: string[];
}

export interface GitHubSignIn {
  login: string;
  /** GitHub's numeric user id, as Auth.js stores it in `accounts`. */
  accountId: string;
  accessToken: string;
}

export type Admission =
  | { admitted: true; why: "allowed user" | "allowed organization" | "member" | "invited"; identities: Identity[] }
  | { admitted: false; identities: Identity[] };

/** Whether this GitHub account already belongs to a SAM user who is a member of some project. */
async function belongsToMember(db: Db, accountId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(accounts)
    .innerJoin(users, eq(users.id, accounts.userId))
    .where(
      and(
        eq(accounts.provider, "github"),
        eq(accounts.providerAccountId, accountId),
        exists(db.select().from(projectMembers).where(eq(projectMembers.userId, users.id))),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/**
 * Who may sign in with GitHub: a login or organization member on the operator's allow-lists, a
 * person a project owner invited (by login, or by one of their verified email addresses), or someone
 * who already belongs to a project here. Everyone else is refused before any account is made. The
 * identities are returned either way: a first sign-in turns the invitations made to them into
 * memberships.
 */
export async function admitGitHubUser(db: Db, rules: GitHubAdmissionRules, who: GitHubSignIn): Promise<Admission> {
  const login = who.login.toLowerCase();
  const emails = await verifiedEmails(rules.apiUrl, who.accessToken);
  const identities: Identity[] = [
    { kind: "github", value: login },
    ...emails.map((value) => ({ kind: "email" as const, value })),
  ];
  if (rules.allowedUsers.includes(login)) return { admitted: true, why: "allowed user", identities };
  if (await hasOpenInvitation(db, identities)) return { admitted: true, why: "invited", identities };
  if (await belongsToMember(db, who.accountId)) return { admitted: true, why: "member", identities };
  if (rules.allowedOrgs.length > 0) {
    const orgs = await organizationLogins(rules.apiUrl, who.accessToken);
    if (orgs.some((org) => rules.allowedOrgs.includes(org))) {
      return { admitted: true, why: "allowed organization", identities };
    }
  }
  return { admitted: false, identities };
}
