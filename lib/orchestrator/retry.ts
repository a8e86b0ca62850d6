import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { newId } from "../ids";
import { branchNameFor } from "../tasks/branch-name";
import { isTerminal } from "../tasks/statuses";
import { parseInput } from "../validation";
import { type Controller, requireControllable, type TaskRow } from "./authorize";
import { childTaskStatements } from "./child-task";
import { explainRefusedChild } from "./limits";

export const retryInputSchema = z
  .object({
    taskId: z.string().min(1).max(100),
    extraContext: z.string().trim().min(1).max(16_000).optional(),
  })
  .strict();

const LAST_WORDS_CHARS = 2_000;

const SAID_BY = { user: "the user", parent: "the parent task", system: "SAM", task: "another task" } as const;

/**
 * The end of the failed attempt's exchange, for its replacement to read: what its agent said (texts
 * and errors) and what it was told after its prompt (a conversation's follow-ups, messages to a
 * running task), each message marked with who sent it.
 */
async function lastWords(db: Db, taskId: string): Promise<string> {
  const session = await db.query.chatSessions.findFirst({
    where: eq(chatSessions.taskId, taskId),
    columns: { id: true },
  });
  if (!session) return "";
  const rows = await db
    .select({ type: agentEvents.type, payload: agentEvents.payload })
    .from(agentEvents)
    .where(
      and(
        eq(agentEvents.sessionId, session.id),
        inArray(agentEvents.type, ["agent_text", "agent_error", "user_message"]),
      ),
    )
    .orderBy(asc(agentEvents.seq));
  let prompted = false;
  const text = rows
    .map((r) => {
      const payload = JSON.parse(r.payload) as { text?: string; message?: string; source?: keyof typeof SAID_BY };
      if (r.type === "agent_error") return `\n[error] ${payload.message}\n`;
      if (r.type !== "user_message") return payload.text ?? "";
      // The first is the task's own prompt, which the replacement gets anyway.
      if (!prompted) {
        prompted = true;
        return "";
      }
      return `\n[from ${SAID_BY[payload.source ?? "user"] ?? "the user"}] ${payload.text ?? ""}\n`;
    })
    .join("")
    .trim();
  return text.length > LAST_WORDS_CHARS ? `…${text.slice(-LAST_WORDS_CHARS)}` : text;
}

function retryDescription(
  original: string,
  attempt: number,
  failureReason: string,
  words: string,
  extra?: { from: "parent" | "user"; text: string },
) {
  return [
    original,
    "",
    "---",
    `This is retry ${attempt} of a task that failed. Learn from what went wrong.`,
    `Failure reason: ${failureReason}`,
    ...(words ? ["The failed attempt's last messages:", words.replace(/^/gm, "> ")] : []),
    ...(extra ? ["", `From the ${extra.from}:`, extra.text] : []),
  ].join("\n");
}

/** The guard every retry shares, in the statement that inserts the replacement. */
function retryGuard(failed: TaskRow) {
  // Invariant: a failed task is replaced at most once, and a lineage at most max_retries times.
  return sql`NOT EXISTS (SELECT 1 FROM tasks WHERE retry_of_id = ${failed.id})
      AND (SELECT count(*) FROM tasks WHERE lineage_id = ${failed.lineageId} AND retry_of_id IS NOT NULL) < p.max_retries`;
}

/**
 * Replaces a failed task with a new one that is told what went wrong. A child's replacement counts
 * against the parent's limits like any dispatch, and edges that pointed at the failed child now
 * point at it; a root task (only its project's user can retry one) is replaced by a new root task
 * with its own session. Either way a lineage is retried at most the project's retry limit and a
 * failed task is replaced once — all in one transaction that hangs on the guarded insert.
 */
export async function retrySubtask(db: Db, controller: Controller, input: unknown) {
  const { taskId, extraContext } = parseInput(retryInputSchema, input);
  const failed = await requireControllable(db, controller, taskId, "retry");
  if (failed.status !== "failed") {
    throw new SamError(
      "conflict",
      failed.status === "completed" || failed.status === "cancelled"
        ? `Task ${taskId} is ${failed.status}; only a failed task can be retried`
        : `Task ${taskId} is ${failed.status}; stop it first (stop_subtask), then retry it`,
    );
  }
  const attempt = failed.retryCount + 1;
  const description = retryDescription(
    failed.description,
    attempt,
    failed.failureReason ?? "unknown",
    await lastWords(db, failed.id),
    extraContext ? { from: controller.kind === "task" ? "parent" : "user", text: extraContext } : undefined,
  );
  if (!failed.parentId) {
    // Only a user reaches a root task: an agent acts on its own children alone (requireControllable).
    if (controller.kind !== "user") throw new SamError("forbidden", `Cannot retry task ${taskId}`);
    return retryRootTask(db, controller.userId, failed, attempt, description);
  }
  return retryChild(db, { ...failed, parentId: failed.parentId }, attempt, description);
}

/**
 * Re-queues a task whose node was lost (or removed) under it, as SAM's own retry: a new attempt in
 * the lineage, guarded like any retry (one replacement per failed attempt, at most the project's
 * retry limit), whose workspace starts from the work the lost attempt had pushed. Its parent, if
 * any, learns of it with the failure itself. Returns the new attempt's id, or why there is none.
 */
export async function retryLostAttempt(
  db: Db,
  taskId: string,
): Promise<{ taskId: string; attempt: number } | { refused: string }> {
  const failed = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
  if (failed?.status !== "failed") return { refused: `task ${taskId} is not failed` };
  const attempt = failed.retryCount + 1;
  const describe = async () =>
    retryDescription(failed.description, attempt, failed.failureReason ?? "node lost", await lastWords(db, failed.id));
  try {
    if (!failed.parentId) {
      // A root task is started by a person; its retry is theirs as if they had asked for it.
      if (!failed.createdByUserId) return { refused: "the task has no user to retry it for" };
      const retried = await retryRootTask(db, failed.createdByUserId, failed, attempt, await describe());
      return { taskId: retried.taskId, attempt };
    }
    const child = { ...failed, parentId: failed.parentId };
    const retried = await retryChild(db, child, attempt, await describe());
    await tellParentOfRetry(db, child, retried.taskId, attempt);
    return { taskId: retried.taskId, attempt };
  } catch (err) {
    if (SamError.is(err)) return { refused: err.message };
    throw err;
  }
}

/**
 * The parent hears of the replacement in the same message that tells it the child failed (when it
 * has not been delivered yet), so the failure does not read as work left for it to retry.
 */
async function tellParentOfRetry(db: Db, failed: TaskRow & { parentId: string }, retryId: string, attempt: number) {
  const note = ` SAM already retried it on another node as ${retryId} (attempt ${attempt}); tasks that depended on it now wait on that one.`;
  const amended = await db.run(sql`
    UPDATE inbox_messages SET body = body || ${note}
    WHERE task_id = ${failed.parentId} AND sender_task_id = ${failed.id} AND kind = 'child_ended' AND delivered_at IS NULL`);
  if (amended.rowsAffected > 0) return;
  await db.run(sql`
    INSERT INTO inbox_messages (id, task_id, sender_task_id, kind, body)
    VALUES (${newId()}, ${failed.parentId}, ${failed.id}, 'system',
      ${`Subtask "${failed.title}" (${failed.id}) failed: ${failed.failureReason ?? "node lost"}.${note}`})`);
}

/**
 * A failed child's replacement, dispatched under the same parent: it counts against the parent's
 * limits like any dispatch, and edges that pointed at the failed child now point at it.
 */
async function retryChild(db: Db, failed: TaskRow & { parentId: string }, attempt: number, description: string) {
  const spec = {
    parentId: failed.parentId,
    projectId: failed.projectId,
    rootId: failed.rootId,
    depth: failed.depth,
    mode: failed.mode,
    title: failed.title,
    description,
    baseBranch: failed.baseBranch ?? undefined,
    lineageId: failed.lineageId,
    retryOfId: failed.id,
    retryCount: attempt,
    dependsOn: [],
    guard: retryGuard(failed),
  };
  const { id, statements } = childTaskStatements(db, spec);
  const exists = sql`EXISTS (SELECT 1 FROM tasks WHERE id = ${id})`;
  const [inserted] = await db.batch([
    ...statements,
    // The replacement waits on what the failed task waited on…
    db.run(sql`
      INSERT INTO task_dependencies (task_id, depends_on_task_id)
      SELECT ${id}, depends_on_task_id FROM task_dependencies WHERE task_id = ${failed.id} AND ${exists}`),
    // …and whoever waited on the failed task now waits on its replacement.
    db.run(
      sql`UPDATE task_dependencies SET depends_on_task_id = ${id} WHERE depends_on_task_id = ${failed.id} AND ${exists}`,
    ),
  ]);
  if (inserted.rowsAffected === 0) throw await explainRefusedRetry(db, failed, spec);
  emitTaskChanged({ taskId: id, status: "queued" });
  const blockedBy = (
    await db
      .select({ id: tasks.id })
      .from(tasks)
      .where(
        and(
          inArray(tasks.id, sql`(SELECT depends_on_task_id FROM task_dependencies WHERE task_id = ${id})`),
          ne(tasks.status, "completed"),
        ),
      )
  ).map((t) => t.id);
  return { taskId: id, retryOf: failed.id, attempt, status: "queued" as const, blockedBy };
}

/**
 * A failed root task's replacement: a new root task in the same lineage, with its own chat session
 * whose first message is the retry's description, queued for the scheduler. Nothing but the guarded
 * INSERT decides whether it is created, so concurrent retries of one task create one replacement.
 */
async function retryRootTask(db: Db, userId: string, failed: TaskRow, attempt: number, description: string) {
  const id = newId();
  const sessionId = newId();
  const exists = sql`EXISTS (SELECT 1 FROM tasks WHERE id = ${id})`;
  // A revision's retry revises the same pull request, on its branch.
  const revisionBranch = failed.pullRequestId ? failed.branch : null;
  const [inserted] = await db.batch([
    // Invariant (with retryGuard): an archived project takes no new work.
    db.run(sql`
      INSERT INTO tasks (id, project_id, parent_id, root_id, depth, mode, status, title, description, base_branch,
        branch, lineage_id, retry_of_id, retry_count, created_by_user_id, source_idea_id, pull_request_id, merges_base)
      SELECT ${id}, p.id, NULL, ${id}, 0, ${failed.mode}, 'queued', ${failed.title}, ${description},
        ${failed.baseBranch}, ${revisionBranch ?? branchNameFor(id, failed.title)}, ${failed.lineageId}, ${failed.id},
        ${attempt}, ${userId}, ${failed.sourceIdeaId}, ${failed.pullRequestId}, ${failed.mergesBase ? 1 : 0}
      FROM projects p
      WHERE p.id = ${failed.projectId} AND p.archived_at IS NULL AND ${retryGuard(failed)}`),
    db.run(sql`
      INSERT INTO chat_sessions (id, project_id, task_id, mode, title, created_by_user_id)
      SELECT ${sessionId}, ${failed.projectId}, ${id}, ${failed.mode}, ${failed.title}, ${userId} WHERE ${exists}`),
    db.run(sql`
      INSERT INTO messages (id, session_id, seq, role, author_kind, author_id, content)
      SELECT ${newId()}, ${sessionId}, 1, 'user', 'user', ${userId}, ${description} WHERE ${exists}`),
    db.run(sql`
      INSERT INTO task_events (task_id, from_status, to_status, actor_kind, actor_id, reason)
      SELECT ${id}, NULL, 'queued', 'user', ${userId}, ${`retry ${attempt} of ${failed.id}`} WHERE ${exists}`),
  ]);
  if (inserted.rowsAffected === 0) throw await explainRefusedRetry(db, failed);
  emitTaskChanged({ taskId: id, status: "queued" });
  return { taskId: id, retryOf: failed.id, attempt, status: "queued" as const, blockedBy: [] as string[] };
}

async function explainRefusedRetry(
  db: Db,
  failed: TaskRow,
  spec?: { parentId: string; projectId: string; depth: number; dependsOn: string[] },
): Promise<SamError> {
  const replacement = await db.query.tasks.findFirst({ where: eq(tasks.retryOfId, failed.id), columns: { id: true } });
  if (replacement) return new SamError("conflict", `Task ${failed.id} was already retried as ${replacement.id}`);
  if (failed.parentId) {
    const parent = await db.query.tasks.findFirst({
      where: eq(tasks.id, failed.parentId),
      columns: { title: true, status: true },
    });
    if (parent && isTerminal(parent.status)) {
      return new SamError(
        "conflict",
        `"${failed.title}" cannot be retried: its parent task "${parent.title}" has ended (${parent.status}), and a new attempt runs only under a live parent`,
      );
    }
  }
  const project = await db.query.projects.findFirst({ where: (p, { eq }) => eq(p.id, failed.projectId) });
  const [retries] = await db.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM tasks WHERE lineage_id = ${failed.lineageId} AND retry_of_id IS NOT NULL`,
  );
  if (project && Number(retries?.n ?? 0) >= project.maxRetries) {
    return new SamError(
      "limit_reached",
      `Retry limit reached: this task was retried ${retries?.n} times, and the project's limit is ${project.maxRetries}`,
      { limit: "maxRetries", value: project.maxRetries },
    );
  }
  if (!spec) {
    return project?.archivedAt
      ? new SamError("conflict", "This project is archived; an owner can restore it in its settings to retry tasks")
      : new SamError("conflict", `Task ${failed.id} could not be retried`);
  }
  return explainRefusedChild(db, spec);
}
