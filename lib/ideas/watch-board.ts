import type { Db } from "@/db/client";
import { SamError } from "../errors";
import { onIdeasChanged } from "../events/bus";
import { followOtherInstances } from "../events/other-instances";
import { getProjectForUser } from "../projects/projects";
import { type BoardCard, boardCards } from "./board";

export interface WatchBoardOptions {
  signal: AbortSignal;
  pollMs?: number;
}

/**
 * A project's board as it changes: the cards first, then again whenever any card changes. The
 * database is polled (it is the truth, shared by every instance, and a task's outcome may move an
 * idea from another process); this process's idea hints only wake the poll early. The feed ends
 * when the signal aborts or the user is no longer a member.
 */
export async function* watchBoard(
  db: Db,
  userId: string,
  projectId: string,
  { signal, pollMs = 1000 }: WatchBoardOptions,
): AsyncGenerator<BoardCard[]> {
  let hinted = false;
  let wake: (() => void) | undefined;
  const unsubscribe = onIdeasChanged((change) => {
    if (change.projectId !== projectId) return;
    hinted = true;
    wake?.();
  });
  const unfollow = followOtherInstances(db);
  try {
    let last: string | undefined;
    while (!signal.aborted) {
      hinted = false;
      if (!(await isMember(db, userId, projectId))) return;
      const cards = await boardCards(db, projectId);
      const fingerprint = JSON.stringify(cards);
      if (fingerprint !== last) {
        last = fingerprint;
        yield cards;
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
        const timer = setTimeout(done, pollMs);
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
    }
  } finally {
    unfollow();
    unsubscribe();
  }
}

async function isMember(db: Db, userId: string, projectId: string): Promise<boolean> {
  try {
    await getProjectForUser(db, userId, projectId);
    return true;
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") return false;
    throw err;
  }
}
