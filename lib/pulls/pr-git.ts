import { runGit } from "../git/run-git";

/**
 * Settings given on the command line to every git SAM runs on a project's repository for its pull
 * requests: nothing in a branch an agent pushed, nor any hook, may make git run a program.
 */
const NEUTRAL = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "commit.gpgsign=false",
  "-c",
  "diff.external=",
  "-c",
  "rerere.enabled=false",
];

/** Who SAM's merge commits are by. */
export const SAM_IDENTITY = { name: "SAM", email: "sam@sam.local" };

export class PrGitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`git ${args[0] ?? ""} failed: ${firstLine(stderr) || `exit ${code}`}`);
    this.name = "PrGitError";
  }

  /** The first line git printed about the failure. */
  get summary(): string {
    return firstLine(this.stderr) || firstLine(this.stdout) || `exit ${this.code}`;
  }
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ""
  );
}

export interface PrGitOptions {
  cwd: string;
  timeoutMs?: number;
  /** Exit codes that are answers, not failures (e.g. 1 from `merge-tree` for a conflict). */
  okCodes?: number[];
}

/** Runs git for pull request work; rejects with PrGitError unless it exits 0 (or one of `okCodes`). */
export async function prGit(args: string[], opts: PrGitOptions): Promise<{ stdout: string; code: number }> {
  const result = await runGit([...NEUTRAL, ...args], { cwd: opts.cwd, timeoutMs: opts.timeoutMs ?? 120_000 });
  const code = result.code ?? -1;
  if (code !== 0 && !(opts.okCodes ?? []).includes(code)) {
    throw new PrGitError(args, result.code, result.timedOut ? "timed out" : result.stderr, result.stdout);
  }
  return { stdout: result.stdout, code };
}
