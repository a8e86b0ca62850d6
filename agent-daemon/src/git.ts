import { spawn } from "node:child_process";
import { redactCredentials } from "./redact.ts";

/**
 * Variables that would point git at another repository than the one in `cwd`: a daemon started from
 * a git hook (or a test run inside one) inherits them, and they would silently redirect every command.
 */
const LOCATION_VARS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
  "GIT_CEILING_DIRECTORIES",
];

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of LOCATION_VARS) delete env[name];
  return {
    ...env,
    // Nobody is at a terminal: a credential prompt would hang the request until the timeout.
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes -o ConnectTimeout=15",
    // The transports a project repository may use; `ext::` and friends could run commands.
    GIT_ALLOW_PROTOCOL: "file:https:http:ssh",
    // Stable, English messages: the first error line is reported to users.
    LC_ALL: "C",
  };
}

export class GitError extends Error {
  constructor(
    message: string,
    /** The line of git's stderr that says what went wrong, credentials removed. */
    readonly summary: string,
  ) {
    super(message);
    this.name = "GitError";
  }
}

/** The line of git's output that explains a failure: the first `fatal:`/`error:` line, else the first line. */
function firstErrorLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return redactCredentials(lines.find((line) => /^(fatal|error):/.test(line)) ?? lines[0] ?? "git failed");
}

interface GitOptions {
  cwd?: string;
  timeoutMs?: number;
}

/** Runs git and resolves with its stdout; a non-zero exit or a timeout rejects with a GitError. */
export function git(args: string[], opts: GitOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: opts.cwd, env: gitEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => stdout.push(d));
    child.stderr.on("data", (d: Buffer) => stderr.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new GitError(`git ${args[0]}: ${err.message}`, err.message));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(Buffer.concat(stdout).toString());
        return;
      }
      const summary = timedOut
        ? `git ${args[0]} timed out after ${Math.round(timeoutMs / 1000)} s`
        : firstErrorLine(Buffer.concat(stderr).toString());
      reject(new GitError(`git ${args[0]} failed: ${summary}`, summary));
    });
  });
}
