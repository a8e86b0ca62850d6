import { notFound } from "next/navigation";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { getPullRequestByNumber } from "@/lib/pulls/access";
import { pullRequestDiff, showPullRequest } from "@/lib/pulls/pull-json";

/**
 * What a pull request's view needs, for its page and for the chat's right panel alike: its details
 * (files, commits, whether it merges) and every file's diff. Both are read before the page is sent:
 * git answers in tens of milliseconds for hundreds of files, and a diff streamed in later behind
 * Suspense reached the screen later than one in the first HTML.
 */
export async function loadPullView(userId: string, projectId: string, numberParam: string) {
  const project = await loadProjectOr404(userId, projectId);
  if (!/^\d{1,9}$/.test(numberParam)) notFound();
  const db = getDb();
  let pr: Awaited<ReturnType<typeof getPullRequestByNumber>>;
  try {
    pr = await getPullRequestByNumber(db, { userId }, project.id, Number(numberParam));
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") notFound();
    throw err;
  }
  const [detail, diffs] = await Promise.all([showPullRequest(db, pr), pullRequestDiff(db, pr)]);
  return { project, pr, detail, diffs };
}
