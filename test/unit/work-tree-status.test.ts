import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseStatus } from "@/lib/pulls/repository";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

const temp = makeTempDir("sam-status-");
afterAll(() => temp.cleanup());

const status = (dir: string) => parseStatus(git(dir, "status", "--porcelain=v2", "--branch", "--untracked-files=no"));

describe("reading a work tree before a merge moves its branch", () => {
  it("a clean work tree has no changes and its HEAD is the branch's commit", () => {
    const dir = makeGitRepo(path.join(temp.dir, "clean"), { files: { "a.txt": "a\n" } });
    fs.writeFileSync(path.join(dir, "untracked.txt"), "not git's business\n");
    expect(status(dir)).toEqual({ head: git(dir, "rev-parse", "HEAD"), changed: [] });
  });

  it("every kind of uncommitted change to tracked files is named by its path, spaces included", () => {
    const dir = makeGitRepo(path.join(temp.dir, "dirty"), {
      files: { "edited.txt": "1\n", "old name.txt": "r\n", "gone.txt": "g\n", "staged.txt": "s\n" },
    });
    fs.writeFileSync(path.join(dir, "edited.txt"), "2\n");
    git(dir, "mv", "old name.txt", "new name.txt");
    fs.rmSync(path.join(dir, "gone.txt"));
    fs.writeFileSync(path.join(dir, "staged.txt"), "t\n");
    git(dir, "add", "staged.txt");
    fs.writeFileSync(path.join(dir, "added file.txt"), "n\n");
    git(dir, "add", "added file.txt");
    expect(status(dir).changed.sort()).toEqual([
      "added file.txt",
      "edited.txt",
      "gone.txt",
      "new name.txt",
      "staged.txt",
    ]);
  });

  it("a conflicted path counts as a change", () => {
    const dir = makeGitRepo(path.join(temp.dir, "conflict"), { files: { "app.txt": "one\n" } });
    git(dir, "checkout", "-q", "-b", "other");
    fs.writeFileSync(path.join(dir, "app.txt"), "other\n");
    git(dir, "commit", "-qam", "other");
    git(dir, "checkout", "-q", "main");
    fs.writeFileSync(path.join(dir, "app.txt"), "main\n");
    git(dir, "commit", "-qam", "main");
    expect(() => git(dir, "merge", "-q", "other")).toThrow();
    expect(status(dir).changed).toEqual(["app.txt"]);
  });
});
