import { notFound } from "next/navigation";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { getPullRequestByNumber } from "@/lib/pulls/access";
import { pullRequestDiff, showPullRequest } from "@/lib/pulls/pull-json";

/**
 * What a pull request's view needs, for its page and for the chat's right panel alike. The PR's
 * details (files, commits, whether it merges) are awaited; its diffs come as a promise so the page
 * shows its header at once and streams the diffs in when git has them.
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
  const details = showPullRequest(db, pr);
  const diffs = pullRequestDiff(db, pr);
  // The diffs are awaited later, under Suspense; a failure must not go unhandled meanwhile.
  diffs.catch(() => undefined);
  const detail = await details;
  return { project, pr, detail, diffs };
}
