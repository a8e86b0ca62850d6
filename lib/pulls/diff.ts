import { prGit } from "./pr-git";
import type { PullRepository } from "./repository";

export type FileStatus = "added" | "modified" | "deleted" | "renamed" | "copied" | "changed";

export interface ChangedFile {
  path: string;
  /** The path before a rename or copy. */
  oldPath?: string;
  status: FileStatus;
  additions: number;
  deletions: number;
  binary: boolean;
}

export interface FileDiff extends ChangedFile {
  /** The file's unified diff (`diff --git` header and hunks); empty for a binary file. */
  patch: string;
}

export interface Commit {
  sha: string;
  message: string;
}

/**
 * What a pull request's head is compared with. For a plain task it is where the head left its base
 * branch (the merge base), as a three-dot diff shows. A task that started with its dependencies'
 * work merged in is compared with that same merge of base and dependencies (each at the commit the
 * head took it at), so its diff holds its own change only.
 */
export async function comparisonBase(
  repo: PullRepository,
  baseCommit: string,
  headCommit: string,
  dependencyCommits: string[],
): Promise<string> {
  const mergeBase = async (a: string) =>
    (await prGit(["merge-base", a, headCommit], { cwd: repo.dir, okCodes: [1] })).stdout.trim();
  let point = await mergeBase(baseCommit);
  for (const dep of dependencyCommits) {
    const taken = await mergeBase(dep);
    if (!taken || !point) continue;
    const contained = await prGit(["merge-base", "--is-ancestor", taken, point], { cwd: repo.dir, okCodes: [1] });
    if (contained.code === 0) continue;
    const forward = await prGit(["merge-base", "--is-ancestor", point, taken], { cwd: repo.dir, okCodes: [1] });
    if (forward.code === 0) {
      point = taken;
      continue;
    }
    // Neither contains the other: their merge, as SAM made it when the task's workspace started.
    const { stdout, code } = await prGit(["merge-tree", "--write-tree", "--no-messages", point, taken], {
      cwd: repo.dir,
      okCodes: [1],
    });
    if (code !== 0) continue;
    const tree = stdout.split("\n")[0]?.trim() ?? "";
    point = (
      await prGit(
        [
          "-c",
          "user.name=SAM",
          "-c",
          "user.email=sam@sam.local",
          "commit-tree",
          tree,
          "-p",
          point,
          "-p",
          taken,
          "-m",
          "comparison base",
        ],
        {
          cwd: repo.dir,
        },
      )
    ).stdout.trim();
  }
  return point || baseCommit;
}

const STATUS_OF: Record<string, FileStatus> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "changed",
};

const DIFF_FLAGS = ["--no-color", "--no-ext-diff", "--no-textconv", "-M", "--no-relative"];

/** The files changed between two commits, with their line counts. */
export async function changedFiles(repo: PullRepository, from: string, to: string): Promise<ChangedFile[]> {
  const [status, numstat] = await Promise.all([
    prGit(["diff", ...DIFF_FLAGS, "--name-status", "-z", from, to], { cwd: repo.dir }),
    prGit(["diff", ...DIFF_FLAGS, "--numstat", "-z", from, to], { cwd: repo.dir }),
  ]);
  const files: ChangedFile[] = [];
  const fields = status.stdout.split("\0");
  for (let i = 0; i < fields.length - 1; ) {
    const code = fields[i++] ?? "";
    const letter = code[0] ?? "M";
    if (letter === "R" || letter === "C") {
      const oldPath = fields[i++] ?? "";
      const path = fields[i++] ?? "";
      files.push({ path, oldPath, status: STATUS_OF[letter] ?? "changed", additions: 0, deletions: 0, binary: false });
    } else {
      const path = fields[i++] ?? "";
      files.push({ path, status: STATUS_OF[letter] ?? "changed", additions: 0, deletions: 0, binary: false });
    }
  }
  // --numstat -z: "add\tdel\tpath\0", or for a rename "add\tdel\t\0old\0new\0"; same order as above.
  const counts = numstat.stdout.split("\0");
  let index = 0;
  for (let i = 0; i < counts.length - 1 && index < files.length; index++) {
    const [add = "0", del = "0", path = ""] = (counts[i++] ?? "").split("\t");
    if (path === "") i += 2;
    const file = files[index] as ChangedFile;
    file.binary = add === "-";
    file.additions = file.binary ? 0 : Number(add);
    file.deletions = file.binary ? 0 : Number(del);
  }
  return files;
}

/** Each changed file's unified diff. */
export async function fileDiffs(repo: PullRepository, from: string, to: string): Promise<FileDiff[]> {
  const [files, patch] = await Promise.all([
    changedFiles(repo, from, to),
    prGit(["diff", ...DIFF_FLAGS, "--full-index", from, to], { cwd: repo.dir }),
  ]);
  // One section per file, in the order of the file list.
  const sections = patch.stdout.split(/^(?=diff --git )/m).filter((s) => s.startsWith("diff --git "));
  return files.map((file, i) => ({ ...file, patch: file.binary ? "" : (sections[i] ?? "") }));
}

/** The commits a pull request adds, oldest first. */
export async function commitsBetween(repo: PullRepository, from: string, to: string): Promise<Commit[]> {
  const { stdout } = await prGit(["log", "--reverse", "--format=%H%x00%B%x1e", `${from}..${to}`], { cwd: repo.dir });
  return stdout
    .split("\x1e")
    .map((entry) => entry.replace(/^\n/, ""))
    .filter((entry) => entry.includes("\0"))
    .map((entry) => {
      const [sha = "", message = ""] = entry.split("\0");
      return { sha, message: message.trim() };
    });
}

export interface MergeCheck {
  mergeable: boolean;
  conflicts: string[];
  /** The merged tree, when there is no conflict. */
  tree?: string;
}

/** Whether `head` merges cleanly into `base`, and if not, which paths conflict. */
export async function checkMerge(repo: PullRepository, baseCommit: string, headCommit: string): Promise<MergeCheck> {
  const { stdout, code } = await prGit(
    ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", baseCommit, headCommit],
    { cwd: repo.dir, okCodes: [1] },
  );
  const [tree = "", ...rest] = stdout.split("\0");
  if (code === 0) return { mergeable: true, conflicts: [], tree: tree.trim() };
  const conflicts = [...new Set(rest.map((p) => p.trim()).filter(Boolean))].sort();
  return { mergeable: false, conflicts };
}
