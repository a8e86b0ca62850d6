import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { ideas, projects, tasks } from "@/db/schema";
import { applySessionLifecycle } from "@/lib/events/session-lifecycle";
import { executeIdea } from "@/lib/ideas/execute";
import { createIdea } from "@/lib/ideas/ideas";
import { createProject } from "@/lib/projects/projects";
import { closePullRequest } from "@/lib/pulls/close";
import { addComment, commentSchema } from "@/lib/pulls/comments";
import { mergePullRequest } from "@/lib/pulls/merge";
import { ensurePullRequest } from "@/lib/pulls/open";
import { pullRequestDiff, showPullRequest } from "@/lib/pulls/pull-json";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/**
 * SAM's pull requests on real git repositories. The task branches are made here with git, as a
 * daemon's push would leave them; the e2e tests run the same through real daemons and agents.
 */
describe("pull requests", () => {
  let db: Db;
  let cleanup: () => void;
  const tmp = makeTempDir("sam-pulls-int-");
  let ownerId: string;
  let seq = 0;

  beforeAll(async () => {
    ({ db, cleanup } = await makeTestDb());
    ownerId = (await ensureInstanceOwner(db)).id;
  });
  afterAll(() => {
    cleanup();
    tmp.cleanup();
  });

  /** A project on a fresh repository: checked out (`work`) or bare (cloned from one). */
  async function project(kind: "work" | "bare") {
    const work = makeGitRepo(path.join(tmp.dir, `work-${++seq}`), { files: { "app.txt": "one\ntwo\nthree\n" } });
    let repo = work;
    if (kind === "bare") {
      repo = path.join(tmp.dir, `bare-${seq}.git`);
      git(tmp.dir, "clone", "-q", "--bare", work, repo);
    }
    const created = await createProject(db, ownerId, { repo });
    return { id: created.id, repo, work };
  }

  /** Commits `files` on a new branch off main in the project repository, as a task's save would. */
  function pushBranch(
    repo: string,
    branch: string,
    files: Record<string, string>,
    message = "agent work",
    from = "main",
  ) {
    const scratch = path.join(tmp.dir, `scratch-${++seq}`);
    git(tmp.dir, "clone", "-q", repo, scratch);
    git(scratch, "checkout", "-q", "-b", branch, `origin/${from}`);
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(scratch, name), content);
    git(scratch, "add", "-A");
    git(scratch, "commit", "-q", "-m", message);
    git(scratch, "push", "-q", "origin", `HEAD:refs/heads/${branch}`);
  }

  /** A task-mode task that ran and completed having pushed `files` to its branch. */
  async function completedTask(p: { id: string; repo: string }, files: Record<string, string>, title = "Change app") {
    const task = await createTask(db, ownerId, { projectId: p.id, prompt: title, mode: "task", title });
    const branch = `sam/task-${task.id.slice(0, 8)}`;
    pushBranch(p.repo, branch, files, `${title}\n\nThe agent's message`);
    await transitionTask(db, {
      taskId: task.id,
      from: ["queued"],
      to: "running",
      actor: { kind: "system" },
      set: { baseBranch: "main" },
    });
    await db.update(tasks).set({ summary: "Changed the app" }).where(eq(tasks.id, task.id));
    await applySessionLifecycle(db, task.id, { type: "session_finished", outcome: "completed", branch });
    const pr = await ensurePullRequest(db, task.id);
    return { task, branch, pr: pr! };
  }

  it("a completed task that pushed work gets one open PR, numbered per project, showing its files and commits", async () => {
    const p = await project("work");
    const first = await completedTask(p, { "new.txt": "hello\n" });
    const second = await completedTask(p, { "app.txt": "one\n2\nthree\n" }, "Edit app");
    expect(first.pr).toMatchObject({ number: 1, state: "open", headBranch: first.branch, baseBranch: "main" });
    expect(second.pr.number).toBe(2);
    expect(first.pr.body).toContain("Changed the app");
    expect(await ensurePullRequest(db, first.task.id)).toMatchObject({ id: first.pr.id, number: 1 });

    const shown = await showPullRequest(db, first.pr);
    expect(shown).toMatchObject({ additions: 1, deletions: 0, changedFiles: 1, mergeable: true, conflicts: [] });
    expect(shown.files).toEqual([{ path: "new.txt", status: "added", additions: 1, deletions: 0 }]);
    expect(shown.commits.map((c) => c.message)).toEqual(["Change app\n\nThe agent's message"]);
    const diff = await pullRequestDiff(db, second.pr);
    expect(diff[0]?.patch).toContain("-two\n+2\n");
  });

  it("a conversation and a task that changed nothing open none", async () => {
    const p = await project("work");
    const task = await createTask(db, ownerId, { projectId: p.id, prompt: "Nothing", mode: "task" });
    await transitionTask(db, { taskId: task.id, from: ["queued"], to: "running", actor: { kind: "system" } });
    await applySessionLifecycle(db, task.id, { type: "session_finished", outcome: "completed" });
    expect(await ensurePullRequest(db, task.id)).toBeUndefined();
    const talk = await createTask(db, ownerId, { projectId: p.id, prompt: "Talk", mode: "conversation" });
    await transitionTask(db, { taskId: talk.id, from: ["queued"], to: "running", actor: { kind: "system" } });
    await applySessionLifecycle(db, talk.id, { type: "session_finished", outcome: "completed", branch: "sam/x" });
    expect(await ensurePullRequest(db, talk.id)).toBeUndefined();
  });

  for (const strategy of ["merge", "squash", "rebase"] as const) {
    for (const kind of ["work", "bare"] as const) {
      it(`a ${strategy} puts the work on the base branch of a ${kind === "bare" ? "bare" : "checked-out clean"} repository and deletes the branch`, async () => {
        const p = await project(kind);
        const { pr, branch } = await completedTask(p, { "feature.txt": `${strategy}\n` });
        const result = await mergePullRequest(db, pr, { userId: ownerId, strategy });
        expect(result.state).toBe("merged");
        expect(git(p.repo, "rev-parse", "main")).toBe(result.mergeCommit);
        expect(git(p.repo, "show", "main:feature.txt")).toBe(strategy);
        const parents = git(p.repo, "log", "-1", "--format=%P", "main").split(" ");
        expect(parents).toHaveLength(strategy === "merge" ? 2 : 1);
        if (kind === "work") expect(fs.readFileSync(path.join(p.work, "feature.txt"), "utf8")).toBe(`${strategy}\n`);
        expect(git(p.repo, "branch", "--list", branch)).toBe("");
        const after = await showPullRequest(
          db,
          (await db.query.pullRequests.findFirst({ where: (r, { eq }) => eq(r.id, pr.id) }))!,
        );
        expect(after).toMatchObject({ state: "merged", mergeCommit: result.mergeCommit, mergeable: false });
        expect(after.files.map((f) => f.path)).toEqual(["feature.txt"]);
      });
    }
  }

  it("a checked-out base branch with uncommitted changes is refused and left untouched", async () => {
    const p = await project("work");
    const { pr, branch } = await completedTask(p, { "feature.txt": "x\n" });
    fs.writeFileSync(path.join(p.work, "app.txt"), "my unsaved edit\n");
    const before = git(p.repo, "rev-parse", "main");
    await expect(mergePullRequest(db, pr, { userId: ownerId, strategy: "merge" })).rejects.toThrow(
      /main is checked out in .* with uncommitted changes \(app\.txt\)/,
    );
    expect(fs.readFileSync(path.join(p.work, "app.txt"), "utf8")).toBe("my unsaved edit\n");
    expect(git(p.repo, "rev-parse", "main")).toBe(before);
    expect(fs.existsSync(path.join(p.work, "feature.txt"))).toBe(false);
    expect(git(p.repo, "branch", "--list", branch)).not.toBe("");
    const row = await db.query.pullRequests.findFirst({ where: (r, { eq }) => eq(r.id, pr.id) });
    expect(row).toMatchObject({ state: "open", lockToken: null });
  });

  it("a base branch checked out in a linked work tree moves with its files there, and a dirty one is refused", async () => {
    const p = await project("bare");
    const linked = path.join(tmp.dir, `linked-${++seq}`);
    git(p.repo, "worktree", "add", "-q", linked, "main");
    const first = await completedTask(p, { "feature.txt": "linked\n" });
    const result = await mergePullRequest(db, first.pr, { userId: ownerId, strategy: "merge" });
    expect(git(linked, "rev-parse", "HEAD")).toBe(result.mergeCommit);
    expect(fs.readFileSync(path.join(linked, "feature.txt"), "utf8")).toBe("linked\n");
    expect(git(linked, "status", "--porcelain")).toBe("");

    const second = await completedTask(p, { "other.txt": "o\n" });
    fs.writeFileSync(path.join(linked, "app.txt"), "my unsaved edit\n");
    const before = git(p.repo, "rev-parse", "main");
    await expect(mergePullRequest(db, second.pr, { userId: ownerId, strategy: "squash" })).rejects.toThrow(
      new RegExp(`main is checked out in ${linked} with uncommitted changes \\(app\\.txt\\)`),
    );
    expect(git(p.repo, "rev-parse", "main")).toBe(before);
    expect(fs.readFileSync(path.join(linked, "app.txt"), "utf8")).toBe("my unsaved edit\n");
  });

  it("a project that keeps branches keeps a closed PR's branch; its diff stays readable", async () => {
    const p = await project("work");
    await db.update(projects).set({ deleteBranches: false }).where(eq(projects.id, p.id));
    const { pr, branch } = await completedTask(p, { "kept.txt": "k\n" });
    await closePullRequest(db, pr, { userId: ownerId });
    expect(git(p.repo, "branch", "--list", branch)).not.toBe("");
    const closed = (await db.query.pullRequests.findFirst({ where: (r, { eq }) => eq(r.id, pr.id) }))!;
    expect(closed).toMatchObject({ state: "closed", closedByUserId: ownerId });
    git(p.repo, "branch", "-D", branch);
    expect((await showPullRequest(db, closed)).files.map((f) => f.path)).toEqual(["kept.txt"]);
  });

  it("two tasks editing the same line: after the first merges, the second shows the path and refuses to merge", async () => {
    const p = await project("bare");
    const a = await completedTask(p, { "app.txt": "one\nTWO-A\nthree\n" }, "A");
    const b = await completedTask(p, { "app.txt": "one\nTWO-B\nthree\n" }, "B");
    expect((await showPullRequest(db, b.pr)).mergeable).toBe(true);
    await mergePullRequest(db, a.pr, { userId: ownerId, strategy: "merge" });
    const shown = await showPullRequest(db, b.pr);
    expect(shown).toMatchObject({ mergeable: false, conflicts: ["app.txt"] });
    await expect(mergePullRequest(db, b.pr, { userId: ownerId, strategy: "squash" })).rejects.toThrow(
      /cannot be merged: .* conflicts with main in app\.txt/,
    );
    expect(git(p.repo, "show", "main:app.txt")).toBe("one\nTWO-A\nthree");
  });

  it("merges of one PR at once: exactly one wins, the others are refused", async () => {
    const p = await project("bare");
    const { pr } = await completedTask(p, { "race.txt": "r\n" });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => mergePullRequest(db, pr, { userId: ownerId, strategy: "merge" })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results)
      if (r.status === "rejected") expect(String(r.reason)).toMatch(/being merged|already merged/);
    expect(git(p.repo, "log", "--merges", "--format=%H", "main").split("\n")).toHaveLength(1);
  });

  it("many tasks completing at once get numbers 1..N, each once", async () => {
    const p = await project("bare");
    const made = [];
    for (let i = 0; i < 8; i++) {
      const task = await createTask(db, ownerId, { projectId: p.id, prompt: `T${i}`, mode: "task" });
      const branch = `sam/n-${i}`;
      pushBranch(p.repo, branch, { [`f${i}.txt`]: `${i}\n` });
      await transitionTask(db, { taskId: task.id, from: ["queued"], to: "running", actor: { kind: "system" } });
      made.push({ task, branch });
    }
    await Promise.all(
      made.map(({ task, branch }) =>
        applySessionLifecycle(db, task.id, { type: "session_finished", outcome: "completed", branch }),
      ),
    );
    const rows = await db.query.pullRequests.findMany({ where: (r, { eq }) => eq(r.projectId, p.id) });
    expect(rows.map((r) => r.number).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("an executed idea stays executing while its PR is open, is done once merged, and back to ready when closed unmerged", async () => {
    const p = await project("bare");
    const run = async (title: string) => {
      const idea = await createIdea(db, p.id, { kind: "user", userId: ownerId }, { title });
      const task = await executeIdea(db, ownerId, p.id, idea.id);
      const branch = `sam/idea-${task.id.slice(0, 8)}`;
      pushBranch(p.repo, branch, { [`${title}.txt`]: "x\n" });
      await transitionTask(db, { taskId: task.id, from: ["queued"], to: "running", actor: { kind: "system" } });
      await applySessionLifecycle(db, task.id, { type: "session_finished", outcome: "completed", branch });
      const pr = (await ensurePullRequest(db, task.id))!;
      const status = async () => (await db.query.ideas.findFirst({ where: eq(ideas.id, idea.id) }))!.status;
      expect(await status()).toBe("executing");
      return { pr, status };
    };
    const merged = await run("merged");
    await mergePullRequest(db, merged.pr, { userId: ownerId, strategy: "squash" });
    expect(await merged.status()).toBe("done");
    const closed = await run("closed");
    await closePullRequest(db, closed.pr, { userId: ownerId });
    expect(await closed.status()).toBe("ready");
    await expect(mergePullRequest(db, closed.pr, { userId: ownerId, strategy: "merge" })).rejects.toThrow(
      /already closed/,
    );
  });

  it("a line comment must point at a line of a file of the PR", async () => {
    const p = await project("work");
    const { pr } = await completedTask(p, { "c.txt": "a\nb\n" });
    const comment = await addComment(db, pr, ownerId, commentSchema.parse({ body: "Why b?", path: "c.txt", line: 2 }));
    expect(comment).toMatchObject({ path: "c.txt", line: 2, body: "Why b?" });
    await expect(
      addComment(db, pr, ownerId, commentSchema.parse({ body: "x", path: "c.txt", line: 3 })),
    ).rejects.toThrow(/c\.txt has 2 lines; there is no line 3/);
    await expect(
      addComment(db, pr, ownerId, commentSchema.parse({ body: "x", path: "nope.txt", line: 1 })),
    ).rejects.toThrow(/nope\.txt is not a file/);
    expect(commentSchema.safeParse({ body: "x", path: "c.txt" }).success).toBe(false);
    expect(commentSchema.safeParse({ body: "  " }).success).toBe(false);
  });

  it("a project whose repository is remote is read and merged through SAM's cache", async () => {
    const prev = process.env.SAM_DATA_DIR;
    process.env.SAM_DATA_DIR = path.join(tmp.dir, "data");
    try {
      const p = await project("bare");
      await db
        .update(projects)
        .set({ repo: `file://${p.repo}`, repoKind: "remote" })
        .where(eq(projects.id, p.id));
      const { pr } = await completedTask(p, { "remote.txt": "r\n" });
      expect((await showPullRequest(db, pr)).files.map((f) => f.path)).toEqual(["remote.txt"]);
      const { mergeCommit } = await mergePullRequest(db, pr, { userId: ownerId, strategy: "merge" });
      expect(git(p.repo, "rev-parse", "main")).toBe(mergeCommit);
    } finally {
      if (prev === undefined) delete process.env.SAM_DATA_DIR;
      else process.env.SAM_DATA_DIR = prev;
    }
  });
});
