/**
 * Brings a branch of the project repository (a subtask's work) into a live workspace, so its agent's
 * next save and push carry it.
 *
 * The workspace's `.git` belongs to its agent: its configuration, hooks, filters, `insteadOf`
 * rewrites or `core.sshCommand` could make any git that reads it run programs. So the daemon never
 * runs git there itself. It takes the branch from its own mirror (trusted, fetched from the project
 * repository), writes it as a bundle into a private directory, and the fetch and merge run inside the
 * agent's sandbox, as the agent's user, where whatever the agent planted can only affect the agent.
 * A node whose operator turned the sandbox off runs the same script unconfined, as its agents run.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { MergeIntoWorkspaceResponse, MergeStrategy } from "./contract.ts";
import { RequestError } from "./errors.ts";
import { GitError, git } from "./git.ts";
import type { Mirrors } from "./mirrors.ts";
import { SANDBOX_RUN_DIR } from "./sandbox/bwrap-args.ts";
import { type Sandbox, type SandboxDirs, SandboxUnavailableError } from "./sandbox/sandbox.ts";

const MERGE_TIMEOUT_MS = 2 * 60_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;
const BUNDLE_NAME = "work.bundle";

// Exit codes of the script beyond success (0) and git's own failure (1).
const DIRTY = 10;
const CONFLICT = 11;
const IN_PROGRESS = 12;

/**
 * Runs in the workspace as its agent. Arguments: the bundle ('' when the workspace has every object
 * already), its ref, the commit to bring in, the strategy, the commit message. Refuses a workspace
 * with uncommitted changes to tracked files or an operation in progress (an abort could not give
 * them back). On a conflict, prints the paths (NUL-separated) and puts everything back. On success
 * prints HEAD before and after.
 */
const SCRIPT = String.raw`
bundle=$1 ref=$2 commit=$3 strategy=$4 message=$5
g() {
  git -c user.name=SAM -c user.email=sam@sam.local -c commit.gpgsign=false -c core.hooksPath=/dev/null \
    -c rerere.enabled=false -c advice.detachedHead=false "$@"
}
for state in MERGE_HEAD CHERRY_PICK_HEAD REVERT_HEAD REBASE_HEAD; do
  if g rev-parse -q --verify "$state" >/dev/null; then echo "$state" >&2; exit ${IN_PROGRESS}; fi
done
g update-index -q --refresh >/dev/null
g diff-index --quiet HEAD --
case $? in
  0) ;;
  1) g diff-index --name-only -z HEAD --; exit ${DIRTY} ;;
  *) exit 1 ;;
esac
if [ -n "$bundle" ]; then g fetch --quiet --no-tags "$bundle" "$ref" || exit 1; fi
before=$(g rev-parse --verify HEAD) || exit 1
conflict() {
  if [ -z "$(g diff --name-only --diff-filter=U)" ]; then g reset --quiet --merge "$before" >&2; exit 1; fi
  g diff --name-only --diff-filter=U -z
  g reset --quiet --merge "$before" >&2
  exit ${CONFLICT}
}
case $strategy in
  merge) g merge --quiet --no-ff --no-edit --no-verify -m "$message" "$commit" >&2 || conflict ;;
  squash)
    g merge --quiet --squash "$commit" >&2 || conflict
    if ! g diff --cached --quiet; then g commit --quiet --no-verify -m "$message" >&2 || conflict; fi ;;
  rebase)
    for c in $(g rev-list --reverse --no-merges "HEAD..$commit"); do
      if ! g cherry-pick "$c" >&2; then
        [ -n "$(g diff --name-only --diff-filter=U)" ] && conflict
        # Its change is already here: nothing to replay.
        g cherry-pick --skip >&2 || conflict
      fi
    done ;;
  *) echo "unknown strategy $strategy" >&2; exit 1 ;;
esac
printf '%s %s\n' "$before" "$(g rev-parse --verify HEAD)"
`;

const MESSAGES: Record<MergeStrategy, (title: string, branch: string) => string> = {
  merge: (title, branch) => `Merge the work of subtask "${title}" (${branch})`,
  squash: (title, branch) => `${title}\n\nThe work of subtask "${title}" (${branch}), squashed.`,
  // Rebased commits keep their own messages.
  rebase: () => "",
};

export interface MergeTarget {
  workspaceId: string;
  path: string;
  repo: string;
  baseCommit: string;
  sandbox: SandboxDirs;
}

interface Outcome {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** The commit `branch` points to in the node's mirror of the project repository, fetched just now. */
async function branchCommit(mirror: string, branch: string): Promise<string> {
  const commit = await git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], { cwd: mirror })
    .then((out) => out.trim())
    .catch(() => "");
  if (!commit) {
    throw new RequestError(404, "branch_not_found", `The branch ${branch} is not in the project repository`);
  }
  return commit;
}

/**
 * Writes what the workspace lacks of `branch` into `dir/work.bundle`: the commits not reachable from
 * the commit the workspace was cloned at (which it has, with all its history). Answers false when
 * the workspace already has every commit of the branch.
 */
async function writeBundle(mirror: string, branch: string, commit: string, base: string, dir: string) {
  const hasBase = await git(["cat-file", "-e", `${base}^{commit}`], { cwd: mirror }).then(
    () => true,
    () => false,
  );
  if (hasBase) {
    const contained = await git(["merge-base", "--is-ancestor", commit, base], { cwd: mirror }).then(
      () => true,
      () => false,
    );
    if (contained) return false;
  }
  const file = path.join(dir, BUNDLE_NAME);
  await git(["bundle", "create", "--quiet", file, `refs/heads/${branch}`, ...(hasBase ? [`^${base}`] : [])], {
    cwd: mirror,
    timeoutMs: MERGE_TIMEOUT_MS,
  });
  fs.chmodSync(file, 0o644);
  return true;
}

function collect(child: ReturnType<typeof spawn>): Promise<Outcome> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    let size = 0;
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      size += d.length;
      if (size <= MAX_OUTPUT_BYTES) stdout.push(d);
    });
    child.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < MAX_OUTPUT_BYTES) stderr += d.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, MERGE_TIMEOUT_MS);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: Buffer.alloc(0), stderr: err.message, timedOut });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr, timedOut });
    });
  });
}

/** Runs the merge script in the workspace: in its agent's sandbox, or unconfined when the operator chose that. */
function runScript(sandbox: Sandbox, target: MergeTarget, bundleDir: string | undefined, args: string[]) {
  const command = ["sh", "-c", SCRIPT, "sh"];
  if (!sandbox.enabled) {
    const child = spawn(
      command[0]!,
      [...command.slice(1), bundleDir ? path.join(bundleDir, BUNDLE_NAME) : "", ...args],
      {
        cwd: target.path,
        env: {
          PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
          HOME: target.sandbox.home,
          TMPDIR: target.sandbox.tmp,
          LC_ALL: "C",
          GIT_TERMINAL_PROMPT: "0",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    return collect(child);
  }
  let child: ReturnType<typeof spawn>;
  try {
    child = sandbox.spawn(
      target.sandbox,
      "none",
      [...command, bundleDir ? `${SANDBOX_RUN_DIR}/${BUNDLE_NAME}` : "", ...args],
      {
        env: { PATH: "/usr/local/bin:/usr/bin:/bin", LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" },
        ...(bundleDir ? { bridgeDir: bundleDir } : {}),
      },
    );
  } catch (err) {
    if (err instanceof SandboxUnavailableError) throw new RequestError(503, "sandbox_unavailable", err.message);
    throw err;
  }
  child.stdin?.end();
  return collect(child);
}

function lastLines(text: string): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.find((line) => /^(fatal|error):/.test(line)) ?? lines.at(-1) ?? "git failed";
}

/**
 * Merges `branch` (fetched into the node's mirror now) into the workspace's HEAD with `strategy`.
 * Refuses with `merge_conflict` naming the paths (the workspace as it was), `workspace_dirty` when
 * tracked files have uncommitted changes, `branch_not_found` when the project repository lacks it.
 */
export async function mergeIntoWorkspace(
  deps: { mirrors: Mirrors; sandbox: Sandbox },
  target: MergeTarget,
  req: { branch: string; title: string; strategy: MergeStrategy },
): Promise<MergeIntoWorkspaceResponse> {
  // Beside the sandbox's own directories, out of its reach; bound read-only into the merge's sandbox.
  const bundleDir = fs.mkdtempSync(path.join(path.dirname(target.sandbox.tmp), "merge-"));
  fs.chmodSync(bundleDir, 0o755);
  try {
    const { commit, bundled } = await deps.mirrors
      .use(target.repo, async (mirror) => {
        const commit = await branchCommit(mirror, req.branch);
        return { commit, bundled: await writeBundle(mirror, req.branch, commit, target.baseCommit, bundleDir) };
      })
      .catch((err: unknown) => {
        if (err instanceof GitError) {
          throw new RequestError(500, "git_failed", `Could not read ${req.branch}: ${err.summary}`);
        }
        throw err;
      });
    const message = MESSAGES[req.strategy](req.title, req.branch);
    const run = await runScript(deps.sandbox, target, bundled ? bundleDir : undefined, [
      `refs/heads/${req.branch}`,
      commit,
      req.strategy,
      message,
    ]);
    const paths = () => run.stdout.toString("utf8").split("\0").filter(Boolean);
    if (run.timedOut) {
      throw new RequestError(
        504,
        "merge_timeout",
        `Merging ${req.branch} took longer than ${MERGE_TIMEOUT_MS / 1000} s`,
      );
    }
    if (run.code === CONFLICT) {
      throw new RequestError(
        409,
        "merge_conflict",
        `The work of subtask "${req.title}" (${req.branch}) conflicts with your branch in ${paths().join(", ")}; ` +
          "nothing was merged",
      );
    }
    if (run.code === DIRTY) {
      throw new RequestError(
        409,
        "workspace_dirty",
        `Your workspace has uncommitted changes in ${paths().join(", ")}; commit them first, then merge`,
      );
    }
    if (run.code === IN_PROGRESS) {
      throw new RequestError(
        409,
        "workspace_busy",
        `Your workspace has a git operation in progress (${run.stderr.trim()}); finish or abort it first`,
      );
    }
    const heads = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64})\n$/.exec(run.stdout.toString("utf8"));
    if (run.code !== 0 || !heads) {
      throw new RequestError(409, "merge_failed", `Could not merge ${req.branch}: ${lastLines(run.stderr)}`);
    }
    return { merged: heads[1] !== heads[2], commit: heads[2]!, strategy: req.strategy };
  } finally {
    fs.rmSync(bundleDir, { recursive: true, force: true });
  }
}
