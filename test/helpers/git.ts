import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "SAM Test",
  GIT_AUTHOR_EMAIL: "test@sam.invalid",
  GIT_COMMITTER_NAME: "SAM Test",
  GIT_COMMITTER_EMAIL: "test@sam.invalid",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();
}

/** A real git repository with one commit on `branch`. */
export function makeGitRepo(dir: string, opts: { branch?: string; files?: Record<string, string> } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", opts.branch ?? "main");
  for (const [name, content] of Object.entries(opts.files ?? { "README.md": "# test repo\n" })) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial commit");
  return dir;
}
