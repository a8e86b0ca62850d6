import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { NOTIFICATION_KINDS, type NotificationKind } from "@/db/schema";
import { SamError } from "../errors";
import { parseInput } from "../validation";

/** One project's row of a person's preferences: which kinds they hear about from it. */
export interface ProjectNotificationPrefs {
  projectId: string;
  projectName: string;
  kinds: Record<NotificationKind, boolean>;
}

export interface NotificationPrefs {
  kinds: readonly NotificationKind[];
  projects: ProjectNotificationPrefs[];
}

const MAX_CHANGES = 500;

export const notificationPrefsChangeSchema = z
  .object({
    prefs: z
      .array(
        z
          .object({
            projectId: z.string().trim().min(1, { message: "must be a project id" }).max(100),
            kind: z.enum(NOTIFICATION_KINDS, { message: `must be one of ${NOTIFICATION_KINDS.join(", ")}` }),
            enabled: z.boolean({ message: "must be true or false" }),
          })
          .strict(),
        { message: "must be a list of {projectId, kind, enabled}" },
      )
      .min(1, { message: "must hold at least one change" })
      .max(MAX_CHANGES, { message: `must hold at most ${MAX_CHANGES} changes` }),
  })
  .strict();

/** A person's preferences for every project they are a member of (archived ones left out); no row: on. */
export async function getNotificationPrefs(db: Db, userId: string): Promise<NotificationPrefs> {
  const [projects, rows] = await Promise.all([
    db.all<{ id: string; name: string }>(sql`
      SELECT p.id, p.name FROM projects p
      JOIN project_members pm ON pm.project_id = p.id AND pm.user_id = ${userId}
      WHERE p.archived_at IS NULL
      ORDER BY p.name COLLATE NOCASE, p.id`),
    db.all<{ project_id: string; kind: NotificationKind; enabled: number }>(sql`
      SELECT np.project_id, np.kind, np.enabled FROM notification_prefs np
      JOIN project_members pm ON pm.project_id = np.project_id AND pm.user_id = np.user_id
      WHERE np.user_id = ${userId}`),
  ]);
  const off = new Set(rows.filter((r) => !r.enabled).map((r) => `${r.project_id}:${r.kind}`));
  return {
    kinds: NOTIFICATION_KINDS,
    projects: projects.map((p) => ({
      projectId: p.id,
      projectName: p.name,
      kinds: Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, !off.has(`${p.id}:${k}`)])) as Record<
        NotificationKind,
        boolean
      >,
    })),
  };
}

/**
 * Turns kinds of notification on or off for projects; returns the preferences as they now are. A
 * project the person is not a member of is refused (named) and nothing is changed.
 */
export async function setNotificationPrefs(db: Db, userId: string, input: unknown): Promise<NotificationPrefs> {
  const { prefs } = parseInput(notificationPrefsChangeSchema, input);
  const projectIds = [...new Set(prefs.map((p) => p.projectId))];
  const members = await db.all<{ project_id: string }>(sql`
    SELECT project_id FROM project_members
    WHERE user_id = ${userId} AND project_id IN (${sql.join(
      projectIds.map((id) => sql`${id}`),
      sql`, `,
    )})`);
  const memberOf = new Set(members.map((m) => m.project_id));
  const outsider = projectIds.find((id) => !memberOf.has(id));
  if (outsider !== undefined) throw new SamError("not_found", `Project not found: ${outsider}`);
  const values = sql.join(
    prefs.map((p) => sql`(${p.projectId}, ${p.kind}, ${p.enabled ? 1 : 0})`),
    sql`, `,
  );
  // Invariant: a person has preferences only for projects they are a member of (the join writes
  // nothing for a project they were removed from since the check above). `WHERE true` lets SQLite
  // parse the upsert after a SELECT.
  await db.run(sql`
    INSERT INTO notification_prefs (user_id, project_id, kind, enabled, updated_at)
    SELECT pm.user_id, v.column1, v.column2, v.column3, ${Date.now()}
    FROM (VALUES ${values}) v JOIN project_members pm ON pm.project_id = v.column1 AND pm.user_id = ${userId}
    WHERE true
    ON CONFLICT (user_id, project_id, kind) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`);
  return getNotificationPrefs(db, userId);
}
