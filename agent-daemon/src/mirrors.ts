import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { GitError, git } from "./git.ts";
import { log } from "./log.ts";
import { redactCredentials } from "./redact.ts";

const FETCH_TIMEOUT_MS = 10 * 60_000;

/** The repository could not be cloned or fetched: missing, unreachable, or not a repository. */
export class RepoUnreachableError extends Error {
  constructor(repo: string, summary: string) {
    super(`cannot read repository ${redactCredentials(repo)}: ${summary}`);
    this.name = "RepoUnreachableError";
  }
}

interface MirrorState {
  /** The update git is running now, if any. */
  running: Promise<void> | undefined;
  /** The update queued behind it, which requests arriving now share. */
  pending: Promise<void> | undefined;
  /** Clones reading the mirror's files right now. */
  readers: number;
}

/**
 * Bare mirrors of project repositories, one per repository, so a workspace is cloned from local disk
 * instead of the network.
 *
 * Updates of one mirror never overlap (two `git fetch` into one repository can corrupt its refs).
 * Every request waits for an update that started after it arrived, so it sees the repository as it
 * was when asked; requests arriving together share one update. Clones from the mirror run
 * concurrently with each other and with fetches (which only add files), but never with `git gc`,
 * which deletes loose objects a clone may be hardlinking.
 */
export class Mirrors {
  private readonly states = new Map<string, MirrorState>();

  constructor(private readonly root: string) {}

  private pathFor(repo: string): string {
    return path.join(this.root, `${createHash("sha256").update(repo).digest("hex")}.git`);
  }

  /** Brings the repository's mirror up to date, then runs `read` with its path. */
  async use<T>(repo: string, read: (mirrorPath: string) => Promise<T>): Promise<T> {
    const state = this.stateFor(repo);
    await this.freshUpdate(repo, state);
    state.readers += 1;
    try {
      return await read(this.pathFor(repo));
    } finally {
      state.readers -= 1;
    }
  }

  private stateFor(repo: string): MirrorState {
    let state = this.states.get(repo);
    if (!state) {
      state = { running: undefined, pending: undefined, readers: 0 };
      this.states.set(repo, state);
    }
    return state;
  }

  private freshUpdate(repo: string, state: MirrorState): Promise<void> {
    if (state.pending) return state.pending;
    const previous = state.running ?? Promise.resolve();
    const update: Promise<void> = previous
      .catch(() => {})
      .then(() => {
        state.pending = undefined;
        state.running = update;
        return this.update(repo, state).catch((err: unknown) => {
          throw err instanceof GitError ? new RepoUnreachableError(repo, err.summary) : err;
        });
      })
      .finally(() => {
        if (state.running === update) state.running = undefined;
      });
    state.pending = update;
    return update;
  }

  private async update(repo: string, state: MirrorState): Promise<void> {
    const mirror = this.pathFor(repo);
    if (fs.existsSync(path.join(mirror, "HEAD"))) {
      await git(["fetch", "--prune", "--quiet", "origin"], { cwd: mirror, timeoutMs: FETCH_TIMEOUT_MS });
      if (state.readers === 0) {
        // Housekeeping only: a failed gc leaves a usable mirror.
        await git(["-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"], {
          cwd: mirror,
          timeoutMs: FETCH_TIMEOUT_MS,
        }).catch((err: unknown) => log(`gc of a mirror failed: ${err instanceof Error ? err.message : String(err)}`));
      }
      return;
    }
    // Cloned aside and renamed into place, so an interrupted first clone never looks like a mirror.
    fs.mkdirSync(this.root, { recursive: true });
    const temp = `${mirror}.tmp-${randomBytes(4).toString("hex")}`;
    try {
      await git(["clone", "--mirror", "--quiet", "--", repo, temp], { timeoutMs: FETCH_TIMEOUT_MS });
      // A clone of a local path hardlinks the source's loose objects; one pack makes every later
      // workspace clone link a handful of files and check out faster.
      await git(["repack", "-a", "-d", "-q"], { cwd: temp, timeoutMs: FETCH_TIMEOUT_MS });
      fs.renameSync(temp, mirror);
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }
}
