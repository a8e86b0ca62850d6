import fs from "node:fs";
import path from "node:path";
import { GitError, git } from "./git.ts";

const PUSH_TIMEOUT_MS = 2 * 60_000;

/**
 * Settings given on the command line to every git the daemon runs in a workspace: they win over any
 * file, so nothing the agent left can run a program (hooks, fsmonitor) on the daemon's side.
 * `safe.directory`: the workspace belongs to the agent's user, not the daemon's.
 */
const NEUTRAL = [
  "-c",
  "safe.directory=*",
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "core.untrackedCache=false",
  "-c",
  "commit.gpgsign=false",
];

/** Runs the daemon's own git in an agent's workspace (see `trustWorkspace` first). */
export function workspaceGit(cwd: string, args: string[], timeoutMs?: number): Promise<string> {
  return git([...NEUTRAL, ...args], { cwd, ...(timeoutMs ? { timeoutMs } : {}) });
}

/**
 * Takes back the repository configuration before the daemon's git reads the workspace once its agent
 * is gone: the agent may have written filters, credential helpers, `insteadOf` rewrites, proxies or
 * includes that would make git run its programs or send the push elsewhere. The workspace's
 * configuration becomes the one it was cloned with; a `.git` that is not a plain directory, or that
 * borrows another repository's files, is refused.
 */
function trustWorkspace(cwd: string, pristineConfig: string): void {
  const gitDir = path.join(cwd, ".git");
  const stat = fs.lstatSync(gitDir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new Error("the workspace's .git is no longer a directory");
  for (const borrowed of ["commondir", "objects/info/alternates", "objects/info/http-alternates"]) {
    fs.rmSync(path.join(gitDir, borrowed), { force: true });
  }
  const config = path.join(gitDir, "config");
  fs.rmSync(config, { force: true, recursive: true });
  fs.writeFileSync(config, pristineConfig, { mode: 0o644 });
}

export interface SaveWorkOptions {
  cwd: string;
  branch: string;
  /** The project repository the web app named: the push goes there, never to the workspace's `origin`. */
  repo: string;
  pristineConfig: string;
  authorName: string;
  authorEmail: string;
  /** The commit the workspace started from: a HEAD still there with nothing staged changed nothing. */
  baseCommit: string;
  /** The leftover changes' commit message: the task's title, then the agent's last message. */
  message: string;
}

export interface SavedWork {
  commit: string;
  /** False when the agent left the workspace as it started: nothing is committed or pushed. */
  changed: boolean;
  pushed: boolean;
  /** Why the push failed: the first error line git printed, credentials removed. */
  pushError?: string;
}

// A commit body is for reading in a log, not a transcript.
const MAX_BODY_CHARS = 4_000;

/**
 * The save commit's message: the task's title as the subject, the agent's last message (trimmed) as
 * the body. Without a title (an older web app) the subject names the task.
 */
export function saveCommitMessage(
  taskId: string,
  title: string | undefined,
  lastAgentText: string | undefined,
): string {
  const subject = title?.replace(/\s+/g, " ").trim() || `Work of task ${taskId}`;
  const body = lastAgentText?.trim() ?? "";
  if (body.length === 0) return subject;
  return `${subject}\n\n${body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS - 1).trimEnd()}…` : body}`;
}

/**
 * Commits whatever the agent left uncommitted (its own commits stay as they are) and pushes the
 * workspace's HEAD to the task branch of the project repository. A workspace left as it started
 * pushes nothing (`changed: false`): an unchanged task has no branch. A failed commit rejects; a
 * failed push resolves with `pushed: false`, because the commit exists and is worth reporting.
 */
export async function saveWork(opts: SaveWorkOptions): Promise<SavedWork> {
  const { cwd } = opts;
  trustWorkspace(cwd, opts.pristineConfig);
  await workspaceGit(cwd, ["add", "--all"]);
  const staged = await workspaceGit(cwd, ["diff", "--cached", "--name-only", "-z"]);
  if (staged.length === 0) {
    const head = (await workspaceGit(cwd, ["rev-parse", "HEAD"])).trim();
    if (head === opts.baseCommit) return { commit: head, changed: false, pushed: false };
  } else {
    await workspaceGit(cwd, [
      "-c",
      `user.name=${opts.authorName}`,
      "-c",
      `user.email=${opts.authorEmail}`,
      "commit",
      "--quiet",
      "--no-verify",
      // Whitespace only: a `#` heading in the agent's message is text, not a comment to strip.
      "--cleanup=whitespace",
      "-m",
      opts.message,
    ]);
  }
  const commit = (await workspaceGit(cwd, ["rev-parse", "HEAD"])).trim();
  try {
    // HEAD, not the branch: if the agent switched branches, what it worked on is what gets saved.
    await workspaceGit(
      cwd,
      ["push", "--quiet", "--no-verify", "--", opts.repo, `HEAD:refs/heads/${opts.branch}`],
      PUSH_TIMEOUT_MS,
    );
    return { commit, changed: true, pushed: true };
  } catch (err) {
    if (err instanceof GitError) return { commit, changed: true, pushed: false, pushError: err.summary };
    throw err;
  }
}
