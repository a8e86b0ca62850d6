import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { parseInput } from "../validation";
import { containsPattern, prefixPattern } from "./like";

export const jumpSearchSchema = z
  .object({
    q: z.string().trim().max(200, { message: "must be at most 200 characters" }).default(""),
    /** The project the user is in: its results come first. */
    projectId: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(50).default(20),
  })
  .strict();

export type JumpKind = "session" | "task" | "idea" | "project";

/** One place the command palette can jump to. */
export interface JumpResult {
  kind: JumpKind;
  id: string;
  title: string;
  projectId: string;
  projectName: string;
  /** A task's or idea's status; empty for a project. */
  status: string;
  href: string;
  updatedAt: number;
}

interface Row {
  kind: JumpKind;
  id: string;
  title: string;
  project_id: string;
  project_name: string;
  status: string;
  session_id: string | null;
  updated_at: number;
}

/**
 * What the palette finds for `q` among the user's projects: sessions (root tasks), subtasks, ideas
 * and projects whose title contains it (or whose id starts with it), the current project's first,
 * then titles that start with it, then the most recently changed. An empty `q` lists recent work.
 */
export async function jumpSearch(db: Db, userId: string, input: unknown): Promise<JumpResult[]> {
  const { q, projectId, limit } = parseInput(jumpSearchSchema, input);
  const pattern = containsPattern(q);
  const prefix = prefixPattern(q);
  const current = projectId ?? "";
  const rows = await db.all<Row>(sql`
    WITH mine AS (
      SELECT p.id, p.name FROM projects p
      JOIN project_members m ON m.project_id = p.id AND m.user_id = ${userId}
      WHERE p.archived_at IS NULL
    ), found AS (
      SELECT CASE WHEN t.depth = 0 THEN 'session' ELSE 'task' END AS kind, t.id, t.title, t.project_id,
        mine.name AS project_name, t.status, s.id AS session_id, t.updated_at
      FROM tasks t JOIN mine ON mine.id = t.project_id
      LEFT JOIN chat_sessions s ON s.task_id = t.id AND t.depth = 0
      WHERE lower(t.title) LIKE ${pattern} ESCAPE '\\' OR t.id LIKE ${prefix} ESCAPE '\\'
      UNION ALL
      SELECT 'idea', i.id, i.title, i.project_id, mine.name, i.status, NULL, i.updated_at
      FROM ideas i JOIN mine ON mine.id = i.project_id
      WHERE lower(i.title) LIKE ${pattern} ESCAPE '\\' OR i.id LIKE ${prefix} ESCAPE '\\'
      UNION ALL
      SELECT 'project', mine.id, mine.name, mine.id, mine.name, '', NULL, 0
      FROM mine WHERE lower(mine.name) LIKE ${pattern} ESCAPE '\\'
    )
    SELECT * FROM found
    ORDER BY project_id = ${current} DESC, lower(title) LIKE ${prefix} ESCAPE '\\' DESC, updated_at DESC, id
    LIMIT ${limit}`);
  return rows.map((row) => ({
    kind: row.kind,
    id: row.id,
    title: row.title,
    projectId: row.project_id,
    projectName: row.project_name,
    status: row.status,
    href: hrefOf(row),
    updatedAt: Number(row.updated_at),
  }));
}

function hrefOf(row: Row): string {
  const project = `/projects/${row.project_id}`;
  switch (row.kind) {
    case "project":
      return project;
    case "idea":
      return `${project}/ideas/${row.id}`;
    case "session":
      return row.session_id ? `${project}/sessions/${row.session_id}` : `${project}/tasks/${row.id}`;
    case "task":
      return `${project}/tasks/${row.id}`;
  }
}
