import { type HarnessKind, isLocalRepo } from "@sam/agent-daemon/contract";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { type MemberRole, projectMembers, projects, users } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { assertHarnessRunsModel, assertModelUsable } from "../models/usable-model";
import { isAdmin, type Requester, requireAdmin, type User } from "../users";
import { parseInput } from "../validation";
import { inspectRepo } from "./inspect-repo";
import { projectSettingsSchema } from "./settings";

export type Project = typeof projects.$inferSelect;
export type ProjectWithRole = Project & { role: MemberRole };

export const createProjectSchema = z
  .object({
    repo: z.string().trim().min(1, { message: "A repository path or URL is required" }).max(2000),
    name: z
      .string()
      .trim()
      .max(100, { message: "Name must be at most 100 characters" })
      .optional()
      .transform((v) => (v === "" ? undefined : v)),
  })
  .strict();
export type CreateProjectInput = z.input<typeof createProjectSchema>;

function nameFromRepo(repo: string): string {
  const last =
    repo
      .replace(/[/\\]+$/, "")
      .split(/[/\\:]/)
      .pop() ?? "project";
  return last.replace(/\.git$/, "") || "project";
}

/**
 * The one rule for where a project's repository may be: a remote URL for anyone, a location on the
 * server's disk for the instance admin only. It is checked before the location is looked at, so that
 * no one else learns which paths exist.
 */
async function assertMayUseRepo(db: Db, requester: Requester, repo: string): Promise<void> {
  // A path or file:// URL: git, and every agent of the project after it, would read the server's disk.
  if (!isLocalRepo(repo.trim()) || (await isAdmin(db, requester))) return;
  const message =
    "Only the instance admin can add a project from a local path or file:// URL; give a remote URL " +
    "(https://, ssh:// or git@host:path)";
  throw new SamError("forbidden", message, { fields: [{ field: "repo", message }] });
}

/**
 * Creates a project owned by `ownerId` from a repository the server can read; `input` is validated
 * here. The requester (by default the owner) is who the repository rule judges.
 */
export async function createProject(
  db: Db,
  ownerId: string,
  input: unknown,
  requester: Requester = { userId: ownerId },
): Promise<ProjectWithRole> {
  const { repo, name } = parseInput(createProjectSchema, input);
  await assertMayUseRepo(db, requester, repo);
  const info = await inspectRepo(repo);
  const id = newId();
  const [project] = await db.batch([
    db
      .insert(projects)
      .values({
        id,
        name: name ?? nameFromRepo(info.repo),
        repo: info.repo,
        repoKind: info.repoKind,
        defaultBranch: info.defaultBranch,
        createdBy: ownerId,
      })
      .returning(),
    db.insert(projectMembers).values({ projectId: id, userId: ownerId, role: "owner" }),
  ]);
  const created = project[0];
  if (!created) throw new SamError("internal", "The project was not stored");
  return { ...created, role: "owner" };
}

/** The projects a user is a member of, newest first. */
export async function listProjects(
  db: Db,
  userId: string,
  opts: { includeArchived?: boolean } = {},
): Promise<ProjectWithRole[]> {
  const rows = await db
    .select({ project: projects, role: projectMembers.role })
    .from(projects)
    .innerJoin(projectMembers, and(eq(projectMembers.projectId, projects.id), eq(projectMembers.userId, userId)))
    .where(opts.includeArchived ? undefined : isNull(projects.archivedAt))
    .orderBy(desc(projects.createdAt));
  return rows.map((r) => ({ ...r.project, role: r.role }));
}

/** Every project of the instance, whoever its members are: the admin's view (`sam project list --all`). */
export async function listAllProjects(
  db: Db,
  requester: Requester,
  opts: { includeArchived?: boolean } = {},
): Promise<Project[]> {
  await requireAdmin(db, requester, "list every project of the instance");
  return db
    .select()
    .from(projects)
    .where(opts.includeArchived ? undefined : isNull(projects.archivedAt))
    .orderBy(desc(projects.createdAt));
}

/** A project as seen by one user; a project the user is not a member of does not exist for them. */
export async function getProjectForUser(db: Db, userId: string, projectId: string): Promise<ProjectWithRole> {
  const rows = await db
    .select({ project: projects, role: projectMembers.role })
    .from(projects)
    .innerJoin(projectMembers, and(eq(projectMembers.projectId, projects.id), eq(projectMembers.userId, userId)))
    .where(eq(projects.id, projectId))
    .limit(1);
  const row = rows[0];
  if (!row) throw new SamError("not_found", "Project not found");
  return { ...row.project, role: row.role };
}

export async function requireOwner(db: Db, userId: string, projectId: string): Promise<ProjectWithRole> {
  const project = await getProjectForUser(db, userId, projectId);
  if (project.role !== "owner") throw new SamError("forbidden", "Only a project owner can change this project");
  return project;
}

/**
 * Changes limits, harness, model and the rest; out-of-range values are refused with the field named,
 * and so are settings that could not run: harness `acp` without its command, an OpenAI-compatible
 * model without its base URL, or a model whose provider needs a key the project has not stored
 * (named, so that the owner adds it first).
 */
export async function updateProjectSettings(
  db: Db,
  userId: string,
  projectId: string,
  input: unknown,
): Promise<Project> {
  const settings = parseInput(projectSettingsSchema, input);
  const current = await requireOwner(db, userId, projectId);
  const agentCommand = settings.agentCommand === undefined ? current.agentCommand : settings.agentCommand;
  if ((settings.harness ?? current.harness) === "acp" && !agentCommand) {
    const message = "The acp harness needs an agent command (the command that starts the ACP agent)";
    throw new SamError("invalid_input", message, { fields: [{ field: "agentCommand", message }] });
  }
  if (settings.harness !== undefined || settings.model !== undefined) {
    assertHarnessRunsModel(settings.harness ?? (current.harness as HarnessKind), settings.model ?? current.model);
  }
  if (settings.model !== undefined) {
    const modelBaseUrl = settings.modelBaseUrl === undefined ? current.modelBaseUrl : settings.modelBaseUrl;
    await assertModelUsable(db, projectId, settings.model, modelBaseUrl);
  }
  const [updated] = await db
    .update(projects)
    .set({
      ...settings,
      nodeLabels: settings.nodeLabels === undefined ? undefined : JSON.stringify(settings.nodeLabels),
      updatedAt: new Date(),
    })
    .where(eq(projects.id, projectId))
    .returning();
  if (!updated) throw new SamError("not_found", "Project not found");
  return updated;
}

export async function setProjectArchived(
  db: Db,
  userId: string,
  projectId: string,
  archived: boolean,
): Promise<Project> {
  await requireOwner(db, userId, projectId);
  const [updated] = await db
    .update(projects)
    .set({ archivedAt: archived ? new Date() : null, updatedAt: new Date() })
    .where(eq(projects.id, projectId))
    .returning();
  if (!updated) throw new SamError("not_found", "Project not found");
  return updated;
}

export interface Member {
  userId: string;
  name: string | null;
  email: string | null;
  githubLogin: string | null;
  role: MemberRole;
}

const memberColumns = {
  userId: users.id,
  name: users.name,
  email: users.email,
  githubLogin: users.githubLogin,
  role: projectMembers.role,
};

export async function listMembers(db: Db, userId: string, projectId: string): Promise<Member[]> {
  await getProjectForUser(db, userId, projectId);
  return db
    .select(memberColumns)
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(eq(projectMembers.projectId, projectId))
    .orderBy(projectMembers.createdAt);
}

export const addMemberSchema = z
  .object({
    email: z.email({ message: "must be an email address" }),
    role: z.enum(["owner", "member"]).default("member"),
  })
  .strict();

/** Adds an existing user (by email) to a project, or changes their role. */
export async function addMember(db: Db, actorId: string, projectId: string, input: unknown): Promise<Member> {
  const { email, role } = parseInput(addMemberSchema, input);
  await requireOwner(db, actorId, projectId);
  const user = await db.query.users.findFirst({ where: eq(users.email, email.toLowerCase()) });
  if (!user) {
    throw new SamError(
      "not_found",
      `No user with email ${email}; they sign in once (or are added with \`sam user add\`) first`,
      {
        fields: [{ field: "email", message: "no such user" }],
      },
    );
  }
  return setMembership(db, projectId, user, role);
}

/** Makes a user a member of a project with a role, or changes the role of one who already is. */
export async function setMembership(db: Db, projectId: string, user: User, role: MemberRole): Promise<Member> {
  await db
    .insert(projectMembers)
    .values({ projectId, userId: user.id, role })
    .onConflictDoUpdate({ target: [projectMembers.projectId, projectMembers.userId], set: { role } });
  return { userId: user.id, name: user.name, email: user.email, githubLogin: user.githubLogin, role };
}

/** Removes a member; the last owner cannot be removed, so a project never becomes unreachable. */
export async function removeMember(db: Db, actorId: string, projectId: string, memberId: string): Promise<void> {
  await requireOwner(db, actorId, projectId);
  // Invariant: a project keeps at least one owner. The check is part of the DELETE itself.
  const result = await db.run(sql`
    DELETE FROM project_members
    WHERE project_id = ${projectId} AND user_id = ${memberId}
      AND (role <> 'owner' OR (SELECT count(*) FROM project_members WHERE project_id = ${projectId} AND role = 'owner') > 1)`);
  if (result.rowsAffected === 0) {
    const exists = await db.query.projectMembers.findFirst({
      where: and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, memberId)),
    });
    if (!exists) throw new SamError("not_found", "No such member");
    throw new SamError("conflict", "A project needs at least one owner; add another owner first");
  }
}
