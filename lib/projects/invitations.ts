import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { type InviteeKind, MEMBER_ROLES, projectInvitations, projectMembers, users } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { GITHUB_LOGIN, parseInput } from "../validation";
import { getProjectForUser, type Member, requireOwner, setMembership } from "./projects";

/** How long an invitation waits for its person's first sign-in. */
export const INVITATION_TTL_MS = 30 * 86_400_000;

/** One way a person is known: a verified email address, or a GitHub login (both lowercased). */
export interface Identity {
  kind: InviteeKind;
  value: string;
}

export type Invitation = typeof projectInvitations.$inferSelect;

const INVITEE_MESSAGE = "must be an email address or a GitHub login";

/** "ada@example.com" is an email; "ada" or "@ada" is a GitHub login. */
const inviteeSchema = z
  .string({ message: INVITEE_MESSAGE })
  .trim()
  .min(1, { message: INVITEE_MESSAGE })
  .max(320)
  .transform((raw, ctx): Identity => {
    const value = raw.toLowerCase();
    if (!value.startsWith("@") && value.includes("@")) {
      if (z.email().safeParse(value).success) return { kind: "email", value };
    } else if (GITHUB_LOGIN.test(value.replace(/^@/, ""))) {
      return { kind: "github", value: value.replace(/^@/, "") };
    }
    ctx.addIssue({ code: "custom", message: INVITEE_MESSAGE });
    return z.NEVER;
  });

export const inviteSchema = z
  .object({
    invitee: inviteeSchema,
    role: z.enum(MEMBER_ROLES, { message: "must be owner or member" }).default("member"),
  })
  .strict();

export type InviteResult = { kind: "member"; member: Member } | { kind: "invitation"; invitation: Invitation };

function userWith(identity: Identity) {
  return identity.kind === "email" ? eq(users.email, identity.value) : eq(users.githubLogin, identity.value);
}

/**
 * Invites a person to a project by email or GitHub login, as one of its owners. Someone who already
 * has an account becomes a member at once; anyone else gets an invitation that admits them and turns
 * into a membership at their first sign-in. Inviting the same person again renews it with the new role.
 */
export async function inviteMember(db: Db, actorId: string, projectId: string, input: unknown): Promise<InviteResult> {
  const { invitee, role } = parseInput(inviteSchema, input);
  await requireOwner(db, actorId, projectId);
  const existing = await db.query.users.findFirst({ where: userWith(invitee) });
  if (existing) return { kind: "member", member: await setMembership(db, projectId, existing, role) };
  const renewed = {
    role,
    invitedByUserId: actorId,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
    acceptedAt: null,
    acceptedByUserId: null,
  };
  const [invitation] = await db
    .insert(projectInvitations)
    .values({ id: newId(), projectId, inviteeKind: invitee.kind, invitee: invitee.value, ...renewed })
    .onConflictDoUpdate({
      target: [projectInvitations.projectId, projectInvitations.inviteeKind, projectInvitations.invitee],
      set: renewed,
    })
    .returning();
  if (!invitation) throw new SamError("internal", "The invitation was not stored");
  return { kind: "invitation", invitation };
}

/** A project's invitations that still wait for their person, newest first; any member may see them. */
export async function listInvitations(db: Db, userId: string, projectId: string): Promise<Invitation[]> {
  await getProjectForUser(db, userId, projectId);
  return db
    .select()
    .from(projectInvitations)
    .where(
      and(
        eq(projectInvitations.projectId, projectId),
        isNull(projectInvitations.acceptedAt),
        gt(projectInvitations.expiresAt, new Date()),
      ),
    )
    .orderBy(desc(projectInvitations.createdAt));
}

/** Withdraws an invitation that has not been used, as one of the project's owners. */
export async function revokeInvitation(
  db: Db,
  actorId: string,
  projectId: string,
  invitationId: string,
): Promise<void> {
  await requireOwner(db, actorId, projectId);
  const deleted = await db
    .delete(projectInvitations)
    .where(
      and(
        eq(projectInvitations.id, invitationId),
        eq(projectInvitations.projectId, projectId),
        isNull(projectInvitations.acceptedAt),
      ),
    )
    .returning({ id: projectInvitations.id });
  if (deleted.length === 0) throw new SamError("not_found", "No such open invitation");
}

/** The SQL condition for invitations that are open (unused, unexpired) for one of these identities. */
function openFor(identities: Identity[], now: Date) {
  return and(
    isNull(projectInvitations.acceptedAt),
    gt(projectInvitations.expiresAt, now),
    or(
      ...identities.map((i) =>
        and(eq(projectInvitations.inviteeKind, i.kind), eq(projectInvitations.invitee, i.value)),
      ),
    ),
  );
}

/** Whether a person known by these identities has an open invitation to any project. */
export async function hasOpenInvitation(db: Db, identities: Identity[]): Promise<boolean> {
  if (identities.length === 0) return false;
  const row = await db.query.projectInvitations.findFirst({
    where: openFor(identities, new Date()),
    columns: { id: true },
  });
  return row !== undefined;
}

/**
 * Turns a person's open invitations into memberships as they sign in. Both statements run in one
 * batch (one transaction), so an invitation is used exactly when its membership is made; a person
 * who already is a member keeps the higher of the two roles.
 */
export async function acceptInvitations(db: Db, userId: string, identities: Identity[]): Promise<void> {
  if (identities.length === 0) return;
  const now = new Date();
  const open = openFor(identities, now);
  await db.batch([
    db.run(sql`
      INSERT INTO project_members (project_id, user_id, role)
      SELECT ${projectInvitations.projectId}, ${userId}, ${projectInvitations.role}
      FROM ${projectInvitations}
      WHERE ${open}
      ON CONFLICT (project_id, user_id) DO UPDATE
        SET role = CASE WHEN excluded.role = 'owner' THEN 'owner' ELSE project_members.role END`),
    db.update(projectInvitations).set({ acceptedAt: now, acceptedByUserId: userId }).where(open),
  ]);
}

/** The project of the invitation a user accepted last, if they are still in it: where a first sign-in lands. */
export async function lastAcceptedProject(db: Db, userId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ projectId: projectInvitations.projectId })
    .from(projectInvitations)
    .innerJoin(
      projectMembers,
      and(eq(projectMembers.projectId, projectInvitations.projectId), eq(projectMembers.userId, userId)),
    )
    .where(eq(projectInvitations.acceptedByUserId, userId))
    .orderBy(desc(projectInvitations.acceptedAt))
    .limit(1);
  return row?.projectId;
}
