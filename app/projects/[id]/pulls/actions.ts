"use server";

import { revalidatePath } from "next/cache";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { getPullRequestFor } from "@/lib/pulls/access";
import { closePullRequest } from "@/lib/pulls/close";
import { addComment, commentSchema } from "@/lib/pulls/comments";
import { mergePullRequest, mergePullRequestSchema } from "@/lib/pulls/merge";
import { askAgentToResolve, requestChanges, requestChangesSchema, resolveConflictsSchema } from "@/lib/pulls/revise";
import { parseInput } from "@/lib/validation";

/** The PR for a member, and only under its own project's URL; anyone else is told it does not exist. */
async function pullFor(projectId: string, pullId: string) {
  const user = await requireApiUser();
  const db = getDb();
  const pr = await getPullRequestFor(db, { userId: user.id }, pullId);
  if (pr.projectId !== projectId) throw new SamError("not_found", "Pull request not found");
  return { db, user, pr };
}

/** The submitted text fields, blanks left out (a whole-PR comment has no path or line). */
function filled(formData: FormData, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = formData.get(name);
    if (typeof value === "string" && value.trim() !== "") out[name] = value;
  }
  return out;
}

const pullPages = (projectId: string) => revalidatePath(`/projects/${projectId}`, "layout");

/** Merges the PR with the chosen strategy; a refusal (conflicts, a dirty work tree) says why. */
export async function mergePullAction(
  projectId: string,
  pullId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  try {
    const input = parseInput(mergePullRequestSchema, filled(formData, ["strategy"]));
    const { db, user, pr } = await pullFor(projectId, pullId);
    const merged = await mergePullRequest(db, pr, { userId: user.id, strategy: input.strategy });
    pullPages(projectId);
    return { ok: true, message: `Merged as ${merged.mergeCommit.slice(0, 12)}` };
  } catch (err) {
    return actionError(err, formData);
  }
}

/** Closes the PR without merging it. */
export async function closePullAction(
  projectId: string,
  pullId: string,
  _prev: ActionState,
  _formData: FormData,
): Promise<ActionState> {
  try {
    const { db, user, pr } = await pullFor(projectId, pullId);
    await closePullRequest(db, pr, { userId: user.id });
    pullPages(projectId);
    return { ok: true, message: "Closed" };
  } catch (err) {
    return actionError(err);
  }
}

/** Adds a comment on the whole PR, or on one line of a file (the form then carries path and line). */
export async function commentPullAction(
  projectId: string,
  pullId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  try {
    const input = parseInput(commentSchema, filled(formData, ["body", "path", "line"]));
    const { db, user, pr } = await pullFor(projectId, pullId);
    await addComment(db, pr, user.id, input);
    pullPages(projectId);
    return { ok: true, message: "Comment added" };
  } catch (err) {
    return actionError(err, formData);
  }
}

/** Sends the PR's unsent comments (and what was typed) to the task's agent, or to a revision task. */
export async function requestChangesAction(
  projectId: string,
  pullId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  try {
    const input = parseInput(requestChangesSchema, filled(formData, ["body"]));
    const { db, user, pr } = await pullFor(projectId, pullId);
    const sent = await requestChanges(db, pr, { userId: user.id, body: input.body });
    pullPages(projectId);
    const comments = `${sent.comments} ${sent.comments === 1 ? "comment" : "comments"}`;
    return {
      ok: true,
      message:
        sent.via === "session"
          ? `Sent ${comments} to the task's agent, which is still working on it`
          : `A revision task is making the changes (${comments})`,
    };
  } catch (err) {
    return actionError(err, formData);
  }
}

/** Hands the PR's conflicts with its base to a revision task. */
export async function resolveConflictsAction(
  projectId: string,
  pullId: string,
  _prev: ActionState,
  formData: FormData,
): Promise<ActionState> {
  try {
    const input = parseInput(resolveConflictsSchema, filled(formData, ["note"]));
    const { db, user, pr } = await pullFor(projectId, pullId);
    await askAgentToResolve(db, pr, { userId: user.id, note: input.note });
    pullPages(projectId);
    return { ok: true, message: "A revision task is resolving the conflicts" };
  } catch (err) {
    return actionError(err, formData);
  }
}
