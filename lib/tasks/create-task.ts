import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { chatSessions, ideaSessionLinks, messages, taskEvents, tasks } from "@/db/schema";
import { emitTaskChanged } from "../events/bus";
import { newId } from "../ids";
import { getProjectForUser } from "../projects/projects";
import { parseInput } from "../validation";
import { branchNameFor, titleFromPrompt } from "./branch-name";

export const createTaskSchema = z
  .object({
    projectId: z.string().min(1, { message: "A project id is required" }),
    prompt: z
      .string()
      .trim()
      .min(1, { message: "The prompt is empty" })
      .max(32_000, { message: "The prompt is longer than 32,000 characters" }),
    mode: z.enum(["task", "conversation"], { message: "Mode must be task or conversation" }).default("task"),
    title: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export type Task = typeof tasks.$inferSelect;

export interface CreateTaskOptions {
  /** The idea this task is executed from: the task records it and its session is linked to it. */
  sourceIdea?: { id: string; context: string };
  /**
   * A revision of a pull request (review changes, conflicts to resolve): the task works on the PR's
   * head branch, checked out as its base too, so its save pushes there as a fast-forward; with
   * `mergesBase` its workspace starts with the PR's base branch merged in, conflicts left in place.
   */
  revision?: { pullRequestId: string; headBranch: string; mergesBase?: boolean };
  /** A statement stored in the same write as the task: what creating it hands over (comments sent). */
  alongside?: SQL;
}

/**
 * A user's new root task with its chat session and first message, stored together. The scheduler
 * starts it; this only queues it.
 */
export async function createTask(db: Db, userId: string, input: unknown, opts: CreateTaskOptions = {}): Promise<Task> {
  const { projectId, prompt, mode, title } = parseInput(createTaskSchema, input);
  await getProjectForUser(db, userId, projectId);
  const id = newId();
  const sessionId = newId();
  const taskTitle = title ?? titleFromPrompt(prompt);
  const [inserted] = await db.batch([
    db
      .insert(tasks)
      .values({
        id,
        projectId,
        rootId: id,
        lineageId: id,
        depth: 0,
        mode,
        status: "queued",
        title: taskTitle,
        description: prompt,
        branch: opts.revision?.headBranch ?? branchNameFor(id, taskTitle),
        baseBranch: opts.revision?.headBranch ?? null,
        pullRequestId: opts.revision?.pullRequestId ?? null,
        mergesBase: opts.revision?.mergesBase ?? false,
        createdByUserId: userId,
        sourceIdeaId: opts.sourceIdea?.id ?? null,
      })
      .returning(),
    db
      .insert(chatSessions)
      .values({ id: sessionId, projectId, taskId: id, mode, title: taskTitle, createdByUserId: userId }),
    db.insert(messages).values({
      id: newId(),
      sessionId,
      seq: 1,
      role: "user",
      authorKind: "user",
      authorId: userId,
      content: prompt,
    }),
    db.insert(taskEvents).values({ taskId: id, toStatus: "queued", actorKind: "user", actorId: userId }),
    opts.sourceIdea
      ? db.insert(ideaSessionLinks).values({ ideaId: opts.sourceIdea.id, sessionId, context: opts.sourceIdea.context })
      : db.run(sql`SELECT 0 WHERE 0`),
    db.run(opts.alongside ?? sql`SELECT 0 WHERE 0`),
  ]);
  const task = inserted[0];
  if (!task) throw new Error("The task was not stored");
  emitTaskChanged({ taskId: id, status: "queued" });
  return task;
}
