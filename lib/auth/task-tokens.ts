import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tasks, tokens } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { generateToken, hashToken } from "./tokens";

export interface TaskIdentity {
  taskId: string;
  projectId: string;
  tokenId: string;
}

/** Mints a bearer token for one task; only its hash is stored. It dies with the task. */
export async function mintTaskToken(db: Db, taskId: string): Promise<string> {
  const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { projectId: true } });
  if (!task) throw new SamError("not_found", `No task ${taskId}`);
  const token = generateToken();
  await db.insert(tokens).values({
    id: newId(),
    kind: "task",
    tokenHash: hashToken(token),
    taskId,
    projectId: task.projectId,
  });
  return token;
}

/** The task a bearer token speaks for; a missing, unknown, revoked or expired token is refused. */
export async function authenticateTaskToken(db: Db, authorization: string | null): Promise<TaskIdentity> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token) throw new SamError("unauthenticated", "A task token is required (Authorization: Bearer <token>)");
  const row = await db.query.tokens.findFirst({
    where: and(
      eq(tokens.tokenHash, hashToken(token)),
      eq(tokens.kind, "task"),
      isNull(tokens.revokedAt),
      or(isNull(tokens.expiresAt), gt(tokens.expiresAt, new Date())),
    ),
    columns: { id: true, taskId: true, projectId: true },
  });
  if (!row?.taskId || !row.projectId)
    throw new SamError("unauthenticated", "The task token is invalid, revoked or expired");
  return { taskId: row.taskId, projectId: row.projectId, tokenId: row.id };
}

/** Revokes every token of a task (its session is over). */
export async function revokeTaskTokens(db: Db, taskId: string): Promise<void> {
  await db
    .update(tokens)
    .set({ revokedAt: sql`(cast(unixepoch('subsec') * 1000 as integer))` })
    .where(and(eq(tokens.taskId, taskId), eq(tokens.kind, "task"), isNull(tokens.revokedAt)));
}
