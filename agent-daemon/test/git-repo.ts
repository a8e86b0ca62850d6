import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/**
 * Runs git in `cwd` for a test, with a fixed identity; returns its trimmed stdout. Workspaces belong
 * to the sandbox's user, so the test's git is told to trust them.
 */
export function gitIn(cwd: string, ...args: string[]): string {
  const trusted = ["-c", "safe.directory=*", "-c", "user.name=Test", "-c", "user.email=test@example.com"];
  return execFileSync("git", [...trusted, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined },
  }).trim();
}

/** A fresh repository at `dir` on branch `main` with one commit of `files`. */
export function makeRepo(dir: string, files: Record<string, string> = { "README.md": "# test\n" }): string {
  fs.mkdirSync(dir, { recursive: true });
  gitIn(dir, "init", "--quiet", "--initial-branch=main");
  commitFiles(dir, files, "initial commit");
  return dir;
}

/** Writes `files` into the repository and commits them; returns the new commit. */
export function commitFiles(dir: string, files: Record<string, string>, message: string): string {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  gitIn(dir, "add", "--all");
  gitIn(dir, "commit", "--quiet", "-m", message);
  return gitIn(dir, "rev-parse", "HEAD");
}
