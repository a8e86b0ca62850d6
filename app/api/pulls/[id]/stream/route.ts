import { count, eq, max } from "drizzle-orm";
import { handle } from "@/app/api/handle";
import { sseResponse } from "@/app/api/sse-response";
import { requireApiUser } from "@/app/current-user";
import { type Db, getDb } from "@/db/client";
import { pullRequestComments } from "@/db/schema";
import { SamError } from "@/lib/errors";
import { onPullChanged } from "@/lib/events/bus";
import { followOtherInstances } from "@/lib/events/other-instances";
import { getPullRequestFor } from "@/lib/pulls/access";

export const dynamic = "force-dynamic";

// The database is the truth (a PR may change in another process, GitHub's sync included); change
// hints, this process's and other instances' (followOtherInstances), only wake the poll early.
const POLL_MS = 2000;

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * A pull request's changes as Server-Sent Events, for its page to refresh: one `pull` event with a
 * version first, then another whenever its state, commits, figures or comments change. Members
 * only; the stream ends if the reader stops being one.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const pr = await getPullRequestFor(db, { userId: user.id }, id);
    return sseResponse(req, (signal) => pullVersions(db, user.id, pr.id, signal), frame, `pull request ${pr.id}`);
  });
}

function frame(version: string): string {
  return `event: pull\ndata: ${JSON.stringify({ version })}\n\n`;
}

/** What the page shows that can change, in one string. Undefined once the reader may not see the PR. */
async function versionOf(db: Db, userId: string, id: string): Promise<string | undefined> {
  let pr: Awaited<ReturnType<typeof getPullRequestFor>>;
  try {
    pr = await getPullRequestFor(db, { userId }, id);
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") return undefined;
    throw err;
  }
  const [comments] = await db
    .select({ n: count(), last: max(pullRequestComments.createdAt) })
    .from(pullRequestComments)
    .where(eq(pullRequestComments.pullRequestId, id));
  return JSON.stringify([
    pr.state,
    pr.headCommit,
    pr.additions,
    pr.deletions,
    pr.changedFiles,
    pr.updatedAt,
    pr.url,
    comments?.n ?? 0,
    comments?.last ?? null,
  ]);
}

async function* pullVersions(db: Db, userId: string, id: string, signal: AbortSignal): AsyncGenerator<string> {
  let hinted = false;
  let wake: (() => void) | undefined;
  const unsubscribe = onPullChanged((change) => {
    if (change.pullRequestId !== id) return;
    hinted = true;
    wake?.();
  });
  const unfollow = followOtherInstances(db);
  try {
    let last: string | undefined;
    while (!signal.aborted) {
      hinted = false;
      const version = await versionOf(db, userId, id);
      if (version === undefined) return;
      if (version !== last) {
        last = version;
        yield version;
      }
      // A hint that came during the poll is not lost: the next poll starts at once.
      if (hinted) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, POLL_MS);
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
    }
  } finally {
    unfollow();
    unsubscribe();
  }
}
