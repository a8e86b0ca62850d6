import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { refineSessionTitleLater } from "../models/session-title";
import { getProjectForUser } from "../projects/projects";
import { parseInput } from "../validation";
import { type CreateTaskOptions, createTask, createTaskSchema, type Task } from "./create-task";

/**
 * A user's new task, refused while the project is archived: an archived project is read-only until
 * an owner restores it. Input errors come first, then membership (a non-member sees "not found").
 * Without a title given, the project's model (unless scripted) refines the prompt's first line.
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
  const task = await createTask(db, userId, parsed, opts);
  // A title taken from the prompt's first line is a stand-in: the project's model, if it has a
  // real one, names the session better.
  if (parsed.title === undefined && project.model !== "scripted") refineSessionTitleLater(db, task.id);
  return task;
}
