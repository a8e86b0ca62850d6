import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentEvents, ideas, messages } from "@/db/schema";
import { SamError } from "../errors";
import { emitIdeasChanged } from "../events/bus";
import { getProjectForUser } from "../projects/projects";
import type { Task } from "../tasks/create-task";
import { createTaskInActiveProject } from "../tasks/create-task-in-active-project";
import { getIdea, type Idea, linkedSessionsOf } from "./ideas";

// The task's prompt holds at most 32,000 characters: the idea gets most of it, its conversations the rest.
const IDEA_CONTENT_CHARS = 20_000;
const CONTEXT_CHARS = 9_000;
const SESSIONS_SHOWN = 5;
const EXCERPT_CHARS = 600;
const ENTRIES_PER_SESSION = 4;

/**
 * Turns an idea into a task-mode root task. One guarded UPDATE claims the idea (it moves to
 * `executing` only if it is not executing already and has not changed since its text was read), so
 * two Executes at once make exactly one task. The task's outcome moves the idea on (task-outcome.ts).
 */
export async function executeIdea(db: Db, userId: string, projectId: string, ideaId: string): Promise<Task> {
  const project = await getProjectForUser(db, userId, projectId);
  if (project.archivedAt) {
    throw new SamError(
      "conflict",
      "This project is archived; an owner can restore it in its settings to execute ideas",
    );
  }
  const idea = await getIdea(db, projectId, ideaId);
  if (idea.status === "executing") throw new SamError("conflict", "This idea is already executing");
  const description = await executionDescription(db, idea);

  // Invariant: an idea runs one task at a time; the claim applies to the version just read.
  const claimed = await db
    .update(ideas)
    .set({ status: "executing", updatedAt: new Date() })
    .where(
      and(
        eq(ideas.id, idea.id),
        eq(ideas.projectId, projectId),
        sql`${ideas.status} <> 'executing'`,
        eq(ideas.updatedAt, idea.updatedAt),
      ),
    )
    .returning({ id: ideas.id });
  if (claimed.length === 0) {
    const now = await getIdea(db, projectId, ideaId);
    throw new SamError(
      "conflict",
      now.status === "executing" ? "This idea is already executing" : "The idea changed meanwhile; try again",
    );
  }
  emitIdeasChanged({ projectId });
  try {
    return await createTaskInActiveProject(
      db,
      userId,
      { projectId, prompt: description, mode: "task", title: idea.title },
      { sourceIdea: { id: idea.id, context: "Executed from this idea" } },
    );
  } catch (err) {
    // No task was made: the idea goes back to where it was, unless something else moved it since.
    await db
      .update(ideas)
      .set({ status: idea.status, updatedAt: new Date() })
      .where(and(eq(ideas.id, idea.id), eq(ideas.status, "executing")));
    emitIdeasChanged({ projectId });
    throw err;
  }
}

/**
 * What the executing agent reads: the conversations the idea came from (link notes and their last
 * words, code blocks left out so no quoted script runs), then the idea itself, last.
 */
export async function executionDescription(db: Db, idea: Idea): Promise<string> {
  const sessions = (await linkedSessionsOf(db, idea.id)).slice(-SESSIONS_SHOWN);
  const parts: string[] = [
    `Implement this idea: ${idea.title}`,
    "",
    "It was captured from the conversations below; use them for context. Work on your branch, test, commit, and finish with complete_task.",
  ];
  let budget = CONTEXT_CHARS;
  for (const session of sessions) {
    if (budget <= 0) break;
    const entries = await lastWordsOf(db, session.sessionId);
    const lines = [`### Conversation: ${session.title}`];
    if (session.context) lines.push(`Why it is linked: ${excerpt(session.context)}`);
    for (const entry of entries) lines.push(`> ${entry.who}: ${excerpt(entry.text).replace(/\n/g, "\n> ")}`);
    const block = lines.join("\n").slice(0, budget);
    budget -= block.length;
    parts.push("", block);
  }
  const content =
    idea.content.length > IDEA_CONTENT_CHARS
      ? `${idea.content.slice(0, IDEA_CONTENT_CHARS)}\n\n(The idea continues; read it in SAM.)`
      : idea.content;
  parts.push("", `## The idea: ${idea.title}`, "", content || "(no description beyond the title)");
  return parts.join("\n");
}

/** The last user messages and agent texts of a session, oldest first. */
async function lastWordsOf(db: Db, sessionId: string): Promise<{ who: string; text: string }[]> {
  const [userRows, agentRows] = await Promise.all([
    db
      .select({ text: messages.content, at: messages.createdAt })
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), eq(messages.role, "user")))
      .orderBy(desc(messages.seq))
      .limit(ENTRIES_PER_SESSION),
    db
      .select({ payload: agentEvents.payload, at: agentEvents.createdAt, seq: agentEvents.seq })
      .from(agentEvents)
      .where(and(eq(agentEvents.sessionId, sessionId), inArray(agentEvents.type, ["agent_text"])))
      .orderBy(desc(agentEvents.seq))
      .limit(ENTRIES_PER_SESSION * 20),
  ]);
  // Agent text arrives in pieces; pieces with consecutive sequence numbers form one reply.
  const replies: { who: string; text: string; at: Date }[] = [];
  let lastSeq: number | undefined;
  for (const row of [...agentRows].reverse()) {
    const text = (JSON.parse(row.payload) as { text?: string }).text ?? "";
    const current = replies.at(-1);
    if (current && lastSeq !== undefined && row.seq === lastSeq + 1) current.text += text;
    else replies.push({ who: "agent", text, at: row.at });
    lastSeq = row.seq;
  }
  const entries = [...userRows.map((r) => ({ who: "user", text: r.text, at: r.at })), ...replies]
    .filter((e) => e.text.trim() !== "")
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  return entries.slice(-ENTRIES_PER_SESSION);
}

function excerpt(text: string): string {
  const plain = text
    .replace(/```[\s\S]*?(```|$)/g, "[code omitted]")
    .replace(/`{3,}/g, "")
    .trim();
  return plain.length > EXCERPT_CHARS ? `${plain.slice(0, EXCERPT_CHARS)}…` : plain;
}
