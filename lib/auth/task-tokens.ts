import { and, eq, gt, isNull, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tasks, tokens } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { TERMINAL_STATUSES } from "../tasks/statuses";
import { type TransitionFields, transitionTask } from "../tasks/transition";
import { generateToken, hashToken } from "./tokens";

export interface TaskIdentity {
  taskId: string;
  projectId: string;
  tokenId: string;
  /** Where the task sits in its tree (never changes): a dispatch under it needs no read of its own. */
  rootId: string;
  depth: number;
}

const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

/** A task token's row for the task that `condition` selects in `tasks`; only its hash is stored. */
function insertTaskToken(token: string, condition: SQL): SQL {
  return sql`
    INSERT INTO tokens (id, kind, token_hash, task_id, project_id)
    SELECT ${newId()}, 'task', ${hashToken(token)}, id, project_id FROM tasks WHERE ${condition}`;
}

/**
 * Moves a provisioned task to `running` and mints the token its session presents, in one guarded
 * write: a task that ended, or was asked to stop, while its workspace was being made does not move
 * and never gets a token. Returns the token, or undefined when the task did not move.
 */
export async function startTaskWithToken(db: Db, taskId: string, set: TransitionFields): Promise<string | undefined> {
  const token = generateToken();
  const moved = await transitionTask(db, {
    taskId,
    from: ["provisioning"],
    to: "running",
    actor: { kind: "system" },
    set,
    // Invariant: a task with a recorded stop never starts.
    guard: sql`stop_requested_at IS NULL`,
    // Invariant: the scheduler's task token exists only together with the task's move to running.
    alongside: (condition) => insertTaskToken(token, condition),
  });
  return moved ? token : undefined;
}

/**
 * Mints a bearer token for a task that has not ended (`sam token mint`, for calling the MCP tools
 * by hand); only its hash is stored. It dies with the task.
 */
export async function mintTaskToken(db: Db, taskId: string): Promise<string> {
  const token = generateToken();
  // Invariant: a task that has ended never gets a token.
  const inserted = await db.run(insertTaskToken(token, sql`id = ${taskId} AND status NOT IN (${terminalList})`));
  if (inserted.rowsAffected === 0) {
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { status: true } });
    if (!task) throw new SamError("not_found", `No task ${taskId}`);
    throw new SamError("conflict", `The task is ${task.status}; its tokens are revoked`);
  }
  return token;
}

/** The task a bearer token speaks for; a missing, unknown, revoked or expired token is refused. */
export async function authenticateTaskToken(db: Db, authorization: string | null): Promise<TaskIdentity> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token) throw new SamError("unauthenticated", "A task token is required (Authorization: Bearer <token>)");
  // One read by the unique token hash, with the task's place in its tree; a plain select, since a
  // relational query costs more to build than to run.
  const [row] = await db
    .select({
      id: tokens.id,
      taskId: tokens.taskId,
      projectId: tokens.projectId,
      rootId: tasks.rootId,
      depth: tasks.depth,
    })
    .from(tokens)
    .innerJoin(tasks, eq(tasks.id, tokens.taskId))
    .where(
      and(
        eq(tokens.tokenHash, hashToken(token)),
        eq(tokens.kind, "task"),
        isNull(tokens.revokedAt),
        or(isNull(tokens.expiresAt), gt(tokens.expiresAt, new Date())),
      ),
    )
    .limit(1);
  if (!row?.taskId || !row.projectId)
    throw new SamError("unauthenticated", "The task token is invalid, revoked or expired");
  return { taskId: row.taskId, projectId: row.projectId, tokenId: row.id, rootId: row.rootId, depth: row.depth };
}
