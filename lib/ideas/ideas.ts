import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, ideaSessionLinks, ideas, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { emitIdeasChanged } from "../events/bus";
import { newId } from "../ids";
import { parseInput } from "../validation";
import {
  CONTENT_MAX,
  createIdeaSchema,
  isMovable,
  linkContextSchema,
  listIdeasSchema,
  MOVABLE_STATUSES,
  moveIdeaSchema,
  updateIdeaSchema,
} from "./rules";

export type Idea = typeof ideas.$inferSelect;

/** Who acts on an idea: a signed-in user (already a member) or an agent's task. */
export type IdeaActor = { kind: "user"; userId: string } | { kind: "task"; taskId: string };

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
// Room left between neighbouring cards, so most moves take a midpoint without renumbering.
const GAP = 1024;
const movableList = sql.join(
  MOVABLE_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/** An idea of one project; an idea of another project does not exist for the caller. */
export async function getIdea(db: Db, projectId: string, ideaId: string): Promise<Idea> {
  const idea = await db.query.ideas.findFirst({ where: and(eq(ideas.id, ideaId), eq(ideas.projectId, projectId)) });
  if (!idea) throw new SamError("not_found", `Idea ${JSON.stringify(ideaId)} not found in this project`);
  return idea;
}

/** A new idea at the top of the draft column, linked to `sessionId` when it came from a conversation. */
export async function createIdea(
  db: Db,
  projectId: string,
  actor: IdeaActor,
  input: unknown,
  link?: { sessionId: string; context?: string },
): Promise<Idea> {
  const { title, content, priority } = parseInput(createIdeaSchema, input);
  const id = newId();
  const [inserted] = await db.batch([
    db
      .insert(ideas)
      .values({
        id,
        projectId,
        title,
        content,
        priority,
        status: "draft",
        position: sql`coalesce((SELECT min(position) FROM ideas WHERE project_id = ${projectId} AND status = 'draft'), ${GAP}) - ${GAP}`,
        createdByUserId: actor.kind === "user" ? actor.userId : null,
        createdByTaskId: actor.kind === "task" ? actor.taskId : null,
      })
      .returning(),
    link
      ? db
          .insert(ideaSessionLinks)
          .values({ ideaId: id, sessionId: link.sessionId, context: link.context || null })
          .onConflictDoNothing()
      : db.run(sql`SELECT 0 WHERE 0`),
  ]);
  const idea = inserted[0];
  if (!idea) throw new SamError("internal", "The idea was not stored");
  emitIdeasChanged({ projectId });
  return idea;
}

/**
 * Links an idea to a chat session of the same project. Linking again keeps the first link (and its
 * note): the pair is the key. Returns whether this call made the link.
 */
export async function linkIdea(
  db: Db,
  projectId: string,
  ideaId: string,
  sessionId: string,
  context?: unknown,
): Promise<{ idea: Idea; linked: boolean }> {
  const note = context === undefined ? undefined : parseInput(linkContextSchema, context);
  const idea = await getIdea(db, projectId, ideaId);
  // Invariant: a link joins an idea and a session of the same project, once.
  const result = await db.run(sql`
    INSERT INTO idea_session_links (idea_id, session_id, context)
    SELECT ${ideaId}, s.id, ${note || null} FROM chat_sessions s
    WHERE s.id = ${sessionId} AND s.project_id = ${projectId}
    ON CONFLICT (idea_id, session_id) DO NOTHING`);
  const linked = result.rowsAffected === 1;
  if (linked) emitIdeasChanged({ projectId });
  return { idea, linked };
}

export interface IdeaListItem {
  id: string;
  title: string;
  status: Idea["status"];
  priority: number;
  linkedSessions: number;
  updatedAt: Date;
}

/** A project's ideas, filtered by status and a text query over title and content, most recent first. */
export async function listIdeas(db: Db, projectId: string, input: unknown): Promise<IdeaListItem[]> {
  const { status, query, limit } = parseInput(listIdeasSchema, input ?? {});
  const pattern = query ? `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  return db
    .select({
      id: ideas.id,
      title: ideas.title,
      status: ideas.status,
      priority: ideas.priority,
      linkedSessions: sql<number>`(SELECT count(*) FROM idea_session_links l WHERE l.idea_id = ideas.id)`,
      updatedAt: ideas.updatedAt,
    })
    .from(ideas)
    .where(
      and(
        eq(ideas.projectId, projectId),
        status ? eq(ideas.status, status) : undefined,
        pattern
          ? sql`(${ideas.title} LIKE ${pattern} ESCAPE '\\' OR ${ideas.content} LIKE ${pattern} ESCAPE '\\')`
          : undefined,
      ),
    )
    .orderBy(desc(ideas.updatedAt))
    .limit(limit);
}

/** The conversations an idea is linked to, oldest link first. */
export async function linkedSessionsOf(db: Db, ideaId: string) {
  return db
    .select({
      sessionId: chatSessions.id,
      taskId: chatSessions.taskId,
      title: chatSessions.title,
      mode: chatSessions.mode,
      state: chatSessions.state,
      context: ideaSessionLinks.context,
      linkedAt: ideaSessionLinks.createdAt,
    })
    .from(ideaSessionLinks)
    .innerJoin(chatSessions, eq(chatSessions.id, ideaSessionLinks.sessionId))
    .where(eq(ideaSessionLinks.ideaId, ideaId))
    .orderBy(asc(ideaSessionLinks.createdAt));
}

/** The tasks executed from an idea, newest first. */
export async function tasksOfIdea(db: Db, ideaId: string) {
  return db
    .select({
      id: tasks.id,
      title: tasks.title,
      status: tasks.status,
      branch: tasks.branch,
      prUrl: tasks.prUrl,
      failureReason: tasks.failureReason,
      createdAt: tasks.createdAt,
      endedAt: tasks.endedAt,
    })
    .from(tasks)
    .where(eq(tasks.sourceIdeaId, ideaId))
    .orderBy(desc(tasks.createdAt));
}

/** An idea with its linked conversations and the tasks run from it. */
export async function ideaDetails(db: Db, projectId: string, ideaId: string) {
  const idea = await getIdea(db, projectId, ideaId);
  const [sessions, runs] = await Promise.all([linkedSessionsOf(db, idea.id), tasksOfIdea(db, idea.id)]);
  return { ...idea, linkedSessions: sessions, tasks: runs };
}
export type IdeaDetails = Awaited<ReturnType<typeof ideaDetails>>;

/**
 * Edits an idea: title, content (replace or append), priority, and a status among the movable ones.
 * The status rule and the content limit are part of the one guarded UPDATE.
 */
export async function updateIdea(db: Db, projectId: string, ideaId: string, input: unknown): Promise<Idea> {
  const changes = parseInput(updateIdeaSchema, input);
  const sets: Record<string, unknown> = { updatedAt: new Date() };
  if (changes.title !== undefined) sets.title = changes.title;
  if (changes.content !== undefined) sets.content = changes.content;
  if (changes.priority !== undefined) sets.priority = changes.priority;
  if (changes.append !== undefined) {
    sets.content = sql`CASE WHEN ${ideas.content} = '' THEN ${changes.append} ELSE ${ideas.content} || char(10) || char(10) || ${changes.append} END`;
  }
  if (changes.status !== undefined) {
    sets.status = changes.status;
    // A card that changes column lands on top of it; one that stays keeps its place.
    sets.position = sql`CASE WHEN ${ideas.status} = ${changes.status} THEN ${ideas.position} ELSE coalesce((SELECT min(c.position) FROM ideas c WHERE c.project_id = ${projectId} AND c.status = ${changes.status}), ${GAP}) - ${GAP} END`;
  }
  const appendFits =
    changes.append === undefined
      ? undefined
      : sql`length(${ideas.content}) + 2 + length(${changes.append}) <= ${CONTENT_MAX}`;
  // Invariant: only draft/exploring/ready/parked move by hand (executing and done belong to Execute
  // and its task); the content never grows past its limit.
  const [updated] = await db
    .update(ideas)
    .set(sets)
    .where(
      and(
        eq(ideas.id, ideaId),
        eq(ideas.projectId, projectId),
        changes.status !== undefined
          ? sql`(${ideas.status} = ${changes.status} OR ${ideas.status} IN (${movableList}))`
          : undefined,
        appendFits,
      ),
    )
    .returning();
  if (!updated) {
    const idea = await getIdea(db, projectId, ideaId);
    if (changes.status !== undefined && !isMovable(idea.status)) {
      throw new SamError("conflict", `The idea is ${idea.status}; only its task's outcome moves it on`);
    }
    throw new SamError(
      "invalid_input",
      `The content would be longer than ${CONTENT_MAX.toLocaleString("en")} characters`,
      {
        fields: [{ field: "append", message: "would make the content too long" }],
      },
    );
  }
  emitIdeasChanged({ projectId });
  return updated;
}

/**
 * Moves a card to a column, after `afterId` (or to the top). One guarded UPDATE makes the move:
 * only draft/exploring/ready/parked change by hand, cards in executing/done reorder within their
 * column. It takes the midpoint between the neighbours; when they are too close the column is
 * renumbered (ordering only, no rule depends on it).
 */
export async function moveIdea(db: Db, projectId: string, input: unknown): Promise<Idea> {
  const { ideaId, status, afterId } = parseInput(moveIdeaSchema, input);
  if (afterId === ideaId)
    throw new SamError("invalid_input", "A card cannot go after itself", {
      fields: [{ field: "afterId", message: "is the card being moved" }],
    });
  const others = sql`c.project_id = ${projectId} AND c.status = ${status} AND c.id <> ${ideaId}`;
  const position =
    afterId === null
      ? sql`coalesce((SELECT min(c.position) FROM ideas c WHERE ${others}) - ${GAP}, 0)`
      : sql`(SELECT a.position + coalesce((SELECT min(c.position) - a.position FROM ideas c WHERE ${others} AND c.position > a.position), ${2 * GAP}) / 2 FROM ideas a WHERE a.id = ${afterId})`;
  const rows = await db.all<{ position: number }>(sql`
    UPDATE ideas SET status = ${status}, position = ${position}, updated_at = ${NOW}
    WHERE id = ${ideaId} AND project_id = ${projectId}
      -- Invariant: executing and done are entered and left only through Execute and the task outcome.
      AND (status = ${status} OR (status IN (${movableList}) AND ${status} IN (${movableList})))
      AND (${afterId} IS NULL OR EXISTS (
        SELECT 1 FROM ideas a WHERE a.id = ${afterId} AND a.project_id = ${projectId} AND a.status = ${status}))
    RETURNING position`);
  const moved = rows[0];
  if (!moved) {
    const idea = await getIdea(db, projectId, ideaId);
    if (idea.status !== status && (!isMovable(idea.status) || !isMovable(status))) {
      throw new SamError(
        "conflict",
        isMovable(idea.status)
          ? `An idea moves to ${status} only through Execute and its task`
          : `The idea is ${idea.status}; only its task's outcome moves it on`,
      );
    }
    throw new SamError("conflict", "The card it should follow is no longer in that column; reload the board");
  }
  const [tie] = await db.all<{ n: number }>(sql`
    SELECT count(*) AS n FROM ideas c WHERE c.project_id = ${projectId} AND c.status = ${status} AND c.position = ${moved.position}`);
  if ((tie?.n ?? 0) > 1) await renumberColumn(db, projectId, status, ideaId);
  emitIdeasChanged({ projectId });
  return getIdea(db, projectId, ideaId);
}

/** Spreads a column's positions GAP apart again, keeping the order; the moved card follows its tie. */
async function renumberColumn(db: Db, projectId: string, status: string, movedId: string): Promise<void> {
  // UPDATE … FROM numbers the column once, before any row changes.
  await db.run(sql`
    UPDATE ideas SET position = r.rn * ${GAP}
    FROM (
      SELECT id, row_number() OVER (ORDER BY position, CASE WHEN id = ${movedId} THEN 1 ELSE 0 END, created_at, id) AS rn
      FROM ideas WHERE project_id = ${projectId} AND status = ${status}
    ) AS r
    WHERE ideas.id = r.id`);
}
