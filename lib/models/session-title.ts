import { generateText } from "ai";
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, tasks } from "@/db/schema";
import { emitTaskChanged } from "../events/bus";
import { projectLanguageModel } from "./language-model";

const TIMEOUT_MS = 20_000;
const MAX_TITLE = 80;

const INSTRUCTIONS =
  "You name chat sessions. Reply with a title of at most eight words for the request below: " +
  "plain text on one line, no quotes, no trailing period.";

/** The model's reply as a title: its first line, without quotes, markup or a final period; empty if nothing is left. */
export function cleanTitle(reply: string): string {
  const line =
    reply
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? "";
  const unquote = (text: string) => text.replace(/^[#*"'`“‘\s]+|[*"'`”’\s]+$/g, "");
  const title = unquote(unquote(line).replace(/^title:\s*/i, ""))
    .replace(/\.$/, "")
    .trim();
  return title.length > MAX_TITLE ? `${title.slice(0, MAX_TITLE - 1)}…` : title;
}

/**
 * Asks the task's model for a better title than the prompt's first line, and stores it on the
 * session and the task, unless someone renamed them meanwhile. Any failure leaves the plain title:
 * a title is not worth failing anything for. Returns the title stored, if any.
 */
export async function refineSessionTitle(db: Db, taskId: string): Promise<string | undefined> {
  const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
  const project = task
    ? await db.query.projects.findFirst({ where: (p, { eq }) => eq(p.id, task.projectId) })
    : undefined;
  if (!task || !project) return undefined;
  const model = await projectLanguageModel(db, project, task.model ?? project.model);
  if (!model) return undefined;
  const { text } = await generateText({
    model,
    system: INSTRUCTIONS,
    prompt: task.description.slice(0, 4000),
    maxOutputTokens: 40,
    maxRetries: 0,
    abortSignal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const title = cleanTitle(text);
  if (!title || title === task.title) return undefined;
  await db.batch([
    db
      .update(chatSessions)
      .set({ title })
      .where(and(eq(chatSessions.taskId, taskId), eq(chatSessions.title, task.title))),
    db
      .update(tasks)
      .set({ title })
      .where(and(eq(tasks.id, taskId), eq(tasks.title, task.title))),
  ]);
  emitTaskChanged({ taskId });
  return title;
}

/** Refines a new session's title in the background (the reply to its creator does not wait). */
export function refineSessionTitleLater(db: Db, taskId: string): void {
  refineSessionTitle(db, taskId).catch((err: unknown) => {
    // The message only: a provider's error never carries the key, but its request might.
    console.warn(
      `sam: the session title of task ${taskId} stays as typed: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
}
