import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { pullRequestComments, users } from "@/db/schema";
import { CHAT_MESSAGE_MAX as MESSAGE_LIMIT } from "../chat/message-limit";
import { SamError } from "../errors";
import { emitPullChanged } from "../events/bus";
import { newId } from "../ids";
import { type PullRequestRow, pullProject } from "./figures";
import { prGit } from "./pr-git";
import { withPullRepository } from "./repository";

export const commentSchema = z
  .object({
    body: z
      .string({ message: "body is required" })
      .trim()
      .min(1, { message: "body must not be empty" })
      .max(MESSAGE_LIMIT, { message: `body must be at most ${MESSAGE_LIMIT} characters` }),
    path: z.string().trim().min(1, { message: "path must not be empty" }).max(4096).optional(),
    line: z.coerce
      .number({ message: "line must be a number" })
      .int({ message: "line must be a whole number" })
      .min(1, { message: "line must be 1 or more" })
      .optional(),
  })
  .strict()
  .refine((c) => (c.path === undefined) === (c.line === undefined), {
    message: "a line comment needs both path and line",
    path: ["line"],
  });
export type CommentInput = z.input<typeof commentSchema>;

export type PullRequestComment = typeof pullRequestComments.$inferSelect;

/**
 * Checks that a line comment points at a line of a file the PR's head has: the path must be a file
 * of the head's tree and the line within it.
 */
async function assertLineExists(db: Db, pr: PullRequestRow, filePath: string, line: number): Promise<void> {
  const project = await pullProject(db, pr);
  const lines = await withPullRepository(project, async (repo) => {
    const head = pr.state === "open" ? repo.ref(pr.headBranch) : pr.headCommit;
    if (!head) return undefined;
    const blob = await prGit(["cat-file", "-p", `${head}:${filePath}`], { cwd: repo.dir, okCodes: [128] });
    if (blob.code !== 0) return undefined;
    return blob.stdout.length === 0 ? 0 : blob.stdout.split("\n").length - (blob.stdout.endsWith("\n") ? 1 : 0);
  });
  if (lines === undefined) {
    throw new SamError("invalid_input", `path: ${filePath} is not a file of pull request #${pr.number}`, {
      fields: [{ field: "path", message: `${filePath} is not a file of this pull request` }],
    });
  }
  if (line > lines) {
    throw new SamError("invalid_input", `line: ${filePath} has ${lines} lines; there is no line ${line}`, {
      fields: [{ field: "line", message: `${filePath} has ${lines} lines` }],
    });
  }
}

/** Adds a comment by a user, on the whole pull request or on one line of one of its files. */
export async function addComment(
  db: Db,
  pr: PullRequestRow,
  userId: string | null,
  input: z.output<typeof commentSchema>,
): Promise<PullRequestComment> {
  if (input.path !== undefined && input.line !== undefined) await assertLineExists(db, pr, input.path, input.line);
  const author = userId
    ? await db.query.users.findFirst({ where: eq(users.id, userId), columns: { name: true, email: true } })
    : undefined;
  const [comment] = await db
    .insert(pullRequestComments)
    .values({
      id: newId(),
      pullRequestId: pr.id,
      authorUserId: userId,
      authorName: author?.name || author?.email || (userId ? "A user" : "Operator"),
      body: input.body,
      path: input.path ?? null,
      line: input.line ?? null,
    })
    .returning();
  emitPullChanged({ projectId: pr.projectId, pullRequestId: pr.id });
  return comment as PullRequestComment;
}

export async function listComments(db: Db, pullRequestId: string): Promise<PullRequestComment[]> {
  return db.query.pullRequestComments.findMany({
    where: eq(pullRequestComments.pullRequestId, pullRequestId),
    orderBy: (c, { asc }) => [asc(c.createdAt), asc(c.id)],
  });
}
