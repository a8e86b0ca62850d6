import { GitError, git } from "./git.ts";

const SAVE_COMMIT_MESSAGE = "sam: save agent work";
const PUSH_TIMEOUT_MS = 2 * 60_000;

export interface SaveWorkOptions {
  cwd: string;
  branch: string;
  authorName: string;
  authorEmail: string;
}

export interface SavedWork {
  commit: string;
  pushed: boolean;
  /** Why the push failed: the first error line git printed, credentials removed. */
  pushError?: string;
}

/**
 * Commits whatever the agent left uncommitted and pushes the workspace's HEAD to the task branch of
 * the project repository (`origin`). A failed commit rejects; a failed push resolves with
 * `pushed: false`, because the commit exists and is worth reporting.
 */
export async function saveWork(opts: SaveWorkOptions): Promise<SavedWork> {
  const { cwd } = opts;
  await git(["add", "--all"], { cwd });
  const staged = await git(["diff", "--cached", "--name-only", "-z"], { cwd });
  if (staged.length > 0) {
    // Hooks are skipped: the agent may have installed some, and a hook must not veto saving its work.
    await git(
      [
        "-c",
        `user.name=${opts.authorName}`,
        "-c",
        `user.email=${opts.authorEmail}`,
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        SAVE_COMMIT_MESSAGE,
      ],
      { cwd },
    );
  }
  const commit = (await git(["rev-parse", "HEAD"], { cwd })).trim();
  try {
    // HEAD, not the branch: if the agent switched branches, what it worked on is what gets saved.
    await git(["push", "--quiet", "--no-verify", "origin", `HEAD:refs/heads/${opts.branch}`], {
      cwd,
      timeoutMs: PUSH_TIMEOUT_MS,
    });
    return { commit, pushed: true };
  } catch (err) {
    if (err instanceof GitError) return { commit, pushed: false, pushError: err.summary };
    throw err;
  }
}
