import { desc, eq, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { chatSessions, type pullRequestComments, tasks, users } from "@/db/schema";
import { CHAT_MESSAGE_MAX } from "../chat/message-limit";
import { SamError } from "../errors";
import { emitPullChanged, emitTaskChanged } from "../events/bus";
import { newId } from "../ids";
import { deliverInbox } from "../orchestrator/inbox";
import { createTask } from "../tasks/create-task";
import { TERMINAL_STATUSES } from "../tasks/statuses";
import { appendMessage } from "../tasks/user-messages";
import { addComment, listComments } from "./comments";
import { checkMerge } from "./diff";
import { type PullRequestRow, pullPoints, pullProject } from "./figures";
import { prGit } from "./pr-git";
import { withPullRepository } from "./repository";

export const requestChangesSchema = z
  .object({
    body: z
      .string({ message: "body must be text" })
      .trim()
      .min(1, { message: "body must not be empty" })
      .max(CHAT_MESSAGE_MAX, { message: `body must be at most ${CHAT_MESSAGE_MAX} characters` })
      .optional(),
  })
  .strict();
export type RequestChangesInput = z.input<typeof requestChangesSchema>;

export const resolveConflictsSchema = z
  .object({
    note: z
      .string({ message: "note must be text" })
      .trim()
      .min(1, { message: "note must not be empty" })
      .max(CHAT_MESSAGE_MAX, { message: `note must be at most ${CHAT_MESSAGE_MAX} characters` })
      .optional(),
  })
  .strict();
export type ResolveConflictsInput = z.input<typeof resolveConflictsSchema>;

export interface RequestChangesResult {
  /** `session`: the task working on the PR took the review as a message; `revision`: a new task does it. */
  via: "session" | "revision";
  taskId: string;
  /** How many comments the review carried. */
  comments: number;
}

type Comment = typeof pullRequestComments.$inferSelect;

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;
// A task's description holds at most this (createTaskSchema); a message to a session a little more.
const PROMPT_MAX = 32_000;
const TITLE_MAX = 200;
// The original task is context, not the work: a long one is cut.
const CONTEXT_MAX = 4_000;

const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

// Review hand-offs of one pull request never overlap in this process (the web app, the one writer):
// two at once would both start a revision task on the same branch, or send a comment twice.
const queues = new Map<string, Promise<unknown>>();

function oneAtATime<T>(pullRequestId: string, work: () => Promise<T>): Promise<T> {
  const next = (queues.get(pullRequestId) ?? Promise.resolve()).catch(() => {}).then(work);
  queues.set(pullRequestId, next);
  void next
    .catch(() => {})
    .finally(() => {
      if (queues.get(pullRequestId) === next) queues.delete(pullRequestId);
    });
  return next;
}

async function currentPullRequest(db: Db, pr: PullRequestRow, action: string): Promise<PullRequestRow> {
  const now = await db.query.pullRequests.findFirst({ where: (p, { eq }) => eq(p.id, pr.id) });
  if (!now) throw new SamError("not_found", "Pull request not found");
  if (now.state !== "open") {
    throw new SamError("conflict", `Pull request #${now.number} is ${now.state}; ${action} only on an open one`);
  }
  return now;
}

/** The task working on the PR last: its own, or its latest revision task. */
async function latestTask(db: Db, pr: PullRequestRow) {
  const [task] = await db
    .select({ id: tasks.id, status: tasks.status })
    .from(tasks)
    .where(or(eq(tasks.id, pr.taskId), eq(tasks.pullRequestId, pr.id)))
    .orderBy(desc(tasks.createdAt), desc(sql`${tasks}.rowid`))
    .limit(1);
  return task;
}

/** The PR's original task, whose description is the revision's context. */
async function originalTask(db: Db, pr: PullRequestRow) {
  const task = await db.query.tasks.findFirst({
    where: eq(tasks.id, pr.taskId),
    columns: { description: true },
  });
  if (!task) throw new SamError("not_found", "The pull request's task is gone");
  return task;
}

function cut(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed;
}

/** The text of each commented line at the PR's head, keyed `path:line` (absent when gone). */
async function commentedLines(db: Db, pr: PullRequestRow, comments: Comment[]): Promise<Map<string, string>> {
  const paths = [...new Set(comments.flatMap((c) => (c.path && c.line ? [c.path] : [])))];
  const lines = new Map<string, string>();
  if (paths.length === 0) return lines;
  const project = await pullProject(db, pr);
  await withPullRepository(project, async (repo) => {
    for (const path of paths) {
      const blob = await prGit(["cat-file", "-p", `${repo.ref(pr.headBranch)}:${path}`], {
        cwd: repo.dir,
        okCodes: [128],
      });
      if (blob.code !== 0) continue;
      // Lines as an editor numbers them: a final newline ends the last line, it starts none.
      const text = blob.stdout.replace(/\n$/, "").split("\n");
      for (const c of comments) {
        if (c.path === path && c.line && c.line <= text.length) lines.set(`${path}:${c.line}`, text[c.line - 1] ?? "");
      }
    }
  });
  return lines;
}

/**
 * The review as an agent reads it: each line comment as `path:line`, the line's text at the head,
 * then the comment; whole-PR comments after their heading. Bodies stay verbatim (they may hold
 * code, or a script).
 */
async function formatReview(db: Db, pr: PullRequestRow, comments: Comment[]): Promise<string> {
  const lines = await commentedLines(db, pr, comments);
  return comments
    .map((c) => {
      const by = `(${c.authorName})`;
      if (!c.path || !c.line) return `### On the whole pull request ${by}\n\n${c.body}`;
      const key = `${c.path}:${c.line}`;
      const text = lines.get(key);
      const quoted = text === undefined ? "(this line is no longer in the file)" : `> ${text}`;
      return `### ${key} ${by}\n\n${quoted}\n\n${c.body}`;
    })
    .join("\n\n");
}

/** What a revision task is asked to do: the original task first, for context; the request last. */
function revisionPrompt(pr: PullRequestRow, originalDescription: string, request: string): string {
  const prompt = [
    `You are revising pull request #${pr.number} "${pr.title}": its branch ${pr.headBranch} (into ${pr.baseBranch}) is checked out in your workspace. Your commits and whatever you leave in the workspace are pushed to that branch, and the pull request shows them.`,
    `## The original task, for context\n\n${cut(originalDescription, CONTEXT_MAX)}`,
    request,
  ].join("\n\n");
  if (prompt.length > PROMPT_MAX) {
    throw new SamError(
      "invalid_input",
      `The request for the agent is ${prompt.length} characters; a task takes at most ${PROMPT_MAX}. Shorten it.`,
    );
  }
  return prompt;
}

function revisionTitle(prefix: string, pr: PullRequestRow): string {
  return cut(`${prefix} #${pr.number}: ${pr.title}`, TITLE_MAX);
}

/** Marks the review's comments sent; it runs in the write that hands them over, if `handed` holds. */
function markSent(comments: Comment[], handed: SQL = sql`1`): SQL {
  const ids = sql.join(
    comments.map((c) => sql`${c.id}`),
    sql`, `,
  );
  return sql`UPDATE pull_request_comments SET sent_at = ${NOW}
    WHERE id IN (${ids}) AND sent_at IS NULL AND ${handed}`;
}

/** Hands the review to the live session of the task working on the PR, through its durable inbox. */
async function sendToSession(
  db: Db,
  pr: PullRequestRow,
  taskId: string,
  userId: string,
  comments: Comment[],
  review: string,
): Promise<boolean> {
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
  if (!session) throw new SamError("internal", `Task ${taskId} has no chat session`);
  const text = `Review of pull request #${pr.number} "${pr.title}": please address these comments on this branch, then complete the task again.\n\n${review}`;
  if (text.length > PROMPT_MAX) {
    throw new SamError(
      "invalid_input",
      `The review is ${text.length} characters; a message to the agent takes at most ${PROMPT_MAX}. Send fewer comments at a time.`,
    );
  }
  const id = newId();
  // Invariant: the inbox takes messages only for a task that has not ended; the comments are sent
  // exactly when the message is written.
  const [written] = await db.batch([
    db.run(sql`
      INSERT INTO inbox_messages (id, task_id, sender_task_id, sender_user_id, kind, body)
      SELECT ${id}, id, NULL, ${userId}, 'message', ${text}
      FROM tasks WHERE id = ${taskId} AND status NOT IN (${terminalList})`),
    db.run(markSent(comments, sql`EXISTS (SELECT 1 FROM inbox_messages WHERE id = ${id})`)),
  ]);
  if (written.rowsAffected === 0) return false;
  await appendMessage(db, session.id, { role: "user", authorKind: "user", authorId: userId, content: text });
  emitTaskChanged({ taskId });
  await deliverInbox(db, taskId);
  return true;
}

/**
 * Request changes: the PR's comments not yet sent (and `body`, stored first as a whole-PR comment)
 * go to the task's agent. A task still working on the PR (its own, or a revision; queued ones
 * included, whose inbox waits for them) gets them as a message; otherwise a revision task is
 * created on the PR's branch. The comments are marked sent in the same write as the hand-off.
 */
export async function requestChanges(
  db: Db,
  pr: PullRequestRow,
  input: { userId: string; body?: string },
): Promise<RequestChangesResult> {
  return oneAtATime(pr.id, async () => {
    const open = await currentPullRequest(db, pr, "changes are requested");
    if (input.body !== undefined) await addComment(db, open, input.userId, { body: input.body });
    const comments = (await listComments(db, open.id)).filter((c) => c.sentAt === null);
    if (comments.length === 0) {
      throw new SamError(
        "invalid_input",
        `Pull request #${open.number} has no comments that were not sent yet; comment first, or give a body`,
      );
    }
    const review = await formatReview(db, open, comments);
    const live = await latestTask(db, open);
    if (live && !(TERMINAL_STATUSES as readonly string[]).includes(live.status)) {
      if (await sendToSession(db, open, live.id, input.userId, comments, review)) {
        emitPullChanged({ projectId: open.projectId, pullRequestId: open.id });
        return { via: "session", taskId: live.id, comments: comments.length };
      }
      // It ended meanwhile: a revision task takes the review instead.
    }
    const original = await originalTask(db, open);
    const prompt = revisionPrompt(
      open,
      original.description,
      `## The review to address\n\nChange the work as these review comments ask, then complete the task.\n\n${review}`,
    );
    const task = await createTask(
      db,
      input.userId,
      { projectId: open.projectId, prompt, mode: "task", title: revisionTitle("Revise", open) },
      {
        revision: { pullRequestId: open.id, headBranch: open.headBranch },
        alongside: markSent(comments),
      },
    );
    emitPullChanged({ projectId: open.projectId, pullRequestId: open.id });
    return { via: "revision", taskId: task.id, comments: comments.length };
  });
}

/** Where an open PR stands against its base now: whether it merges, and the conflicting paths. */
async function mergeCheck(db: Db, pr: PullRequestRow) {
  const project = await pullProject(db, pr);
  return withPullRepository(project, async (repo) => {
    const points = await pullPoints(db, repo, pr);
    if (!points) {
      throw new SamError("conflict", `Pull request #${pr.number}'s branch ${pr.headBranch} or base is gone`);
    }
    return checkMerge(repo, points.base, points.head);
  });
}

/**
 * Ask the agent to resolve: for an open PR that conflicts with its base, a revision task whose
 * workspace starts on the PR's branch with the base merged in and the conflicts left in the files;
 * its save commits the merge and pushes it to the PR's branch.
 */
export async function askAgentToResolve(
  db: Db,
  pr: PullRequestRow,
  input: { userId: string; note?: string },
): Promise<{ taskId: string }> {
  return oneAtATime(pr.id, async () => {
    const open = await currentPullRequest(db, pr, "conflicts are resolved");
    const live = await latestTask(db, open);
    if (live && !(TERMINAL_STATUSES as readonly string[]).includes(live.status)) {
      throw new SamError(
        "conflict",
        `Task ${live.id} is still working on pull request #${open.number}; ask again once it has ended`,
        { taskId: live.id },
      );
    }
    const check = await mergeCheck(db, open);
    if (check.mergeable) {
      throw new SamError("conflict", `Pull request #${open.number} has no conflicts with ${open.baseBranch}`);
    }
    const author = await db.query.users.findFirst({
      where: eq(users.id, input.userId),
      columns: { name: true, email: true },
    });
    const request = [
      "## The conflicts to resolve",
      `${open.headBranch} conflicts with ${open.baseBranch} in: ${check.conflicts.join(", ")}.`,
      `${open.baseBranch} has been merged into your workspace and the merge is left in progress: those files hold git's conflict markers (<<<<<<<, =======, >>>>>>>). Edit each so it keeps what both sides meant, remove every marker, and complete the task; do not abort the merge or start another. SAM commits the merge and pushes it.`,
      ...(input.note ? [`## A note from ${author?.name || author?.email || "the reviewer"}`, input.note] : []),
    ].join("\n\n");
    const original = await originalTask(db, open);
    const task = await createTask(
      db,
      input.userId,
      {
        projectId: open.projectId,
        prompt: revisionPrompt(open, original.description, request),
        mode: "task",
        title: revisionTitle("Resolve conflicts of", open),
      },
      { revision: { pullRequestId: open.id, headBranch: open.headBranch, mergesBase: true } },
    );
    emitPullChanged({ projectId: open.projectId, pullRequestId: open.id });
    return { taskId: task.id };
  });
}
