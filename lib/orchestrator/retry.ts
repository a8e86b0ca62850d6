import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { parseInput } from "../validation";
import { type Controller, requireControllable } from "./authorize";
import { childTaskStatements } from "./child-task";
import { explainRefusedChild } from "./limits";

export const retryInputSchema = z
  .object({
    taskId: z.string().min(1).max(100),
    extraContext: z.string().trim().min(1).max(16_000).optional(),
  })
  .strict();

const LAST_WORDS_CHARS = 2_000;

/** The end of what the failed agent said (texts and errors), for its replacement to read. */
async function lastWords(db: Db, taskId: string): Promise<string> {
  const session = await db.query.chatSessions.findFirst({
    where: eq(chatSessions.taskId, taskId),
    columns: { id: true },
  });
  if (!session) return "";
  const rows = await db
    .select({ type: agentEvents.type, payload: agentEvents.payload })
    .from(agentEvents)
    .where(and(eq(agentEvents.sessionId, session.id), inArray(agentEvents.type, ["agent_text", "agent_error"])))
    .orderBy(asc(agentEvents.seq));
  const text = rows
    .map((r) => {
      const payload = JSON.parse(r.payload) as { text?: string; message?: string };
      return r.type === "agent_error" ? `\n[error] ${payload.message}\n` : (payload.text ?? "");
    })
    .join("")
    .trim();
  return text.length > LAST_WORDS_CHARS ? `…${text.slice(-LAST_WORDS_CHARS)}` : text;
}

function retryDescription(original: string, attempt: number, failureReason: string, words: string, extra?: string) {
  return [
    original,
    "",
    "---",
    `This is retry ${attempt} of a task that failed. Learn from what went wrong.`,
    `Failure reason: ${failureReason}`,
    ...(words ? ["The failed attempt's last messages:", words.replace(/^/gm, "> ")] : []),
    ...(extra ? ["", "From the parent:", extra] : []),
  ].join("\n");
}

/**
 * Replaces a failed child with a new one that is told what went wrong. It counts against the
 * parent's limits like any dispatch, a lineage is retried at most the project's retry limit, a
 * failed task is replaced once, and edges that pointed at it now point at its replacement — all in
 * one transaction that hangs on the guarded insert.
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
  if (!failed.parentId) throw new SamError("invalid_input", "A root task is retried by creating a new task");
  const attempt = failed.retryCount + 1;
  const spec = {
    parentId: failed.parentId,
    projectId: failed.projectId,
    rootId: failed.rootId,
    depth: failed.depth,
    mode: failed.mode,
    title: failed.title,
    description: retryDescription(
      failed.description,
      attempt,
      failed.failureReason ?? "unknown",
      await lastWords(db, failed.id),
      extraContext,
    ),
    baseBranch: failed.baseBranch ?? undefined,
    lineageId: failed.lineageId,
    retryOfId: failed.id,
    retryCount: attempt,
    dependsOn: [],
    // Invariant: a failed task is replaced at most once, and a lineage at most max_retries times.
    guard: sql`NOT EXISTS (SELECT 1 FROM tasks WHERE retry_of_id = ${failed.id})
      AND (SELECT count(*) FROM tasks WHERE lineage_id = ${failed.lineageId} AND retry_of_id IS NOT NULL) < p.max_retries`,
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

async function explainRefusedRetry(
  db: Db,
  failed: typeof tasks.$inferSelect,
  spec: { parentId: string; projectId: string; depth: number; dependsOn: string[] },
): Promise<SamError> {
  const replacement = await db.query.tasks.findFirst({ where: eq(tasks.retryOfId, failed.id), columns: { id: true } });
  if (replacement) return new SamError("conflict", `Task ${failed.id} was already retried as ${replacement.id}`);
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
  return explainRefusedChild(db, spec);
}
