import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { getProjectForUser } from "../projects/projects";
import { parseInput } from "../validation";
import { type CreateTaskOptions, createTask, createTaskSchema, type Task } from "./create-task";

/**
 * A user's new task, refused while the project is archived: an archived project is read-only until
 * an owner restores it. Input errors come first, then membership (a non-member sees "not found").
 */
export async function createTaskInActiveProject(
  db: Db,
  userId: string,
  input: unknown,
  opts: CreateTaskOptions = {},
): Promise<Task> {
  const parsed = parseInput(createTaskSchema, input);
  const project = await getProjectForUser(db, userId, parsed.projectId);
  if (project.archivedAt) {
    throw new SamError("conflict", "This project is archived; an owner can restore it in its settings to add tasks");
  }
  return createTask(db, userId, parsed, opts);
}
