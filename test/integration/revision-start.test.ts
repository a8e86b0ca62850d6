import { randomBytes } from "node:crypto";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { nodes, pullRequests, tasks, workspaces } from "@/db/schema";
import { newId } from "@/lib/ids";
import { mintNodeToken } from "@/lib/nodes/node-tokens";
import { createProject } from "@/lib/projects/projects";
import { startClaimedTask } from "@/lib/scheduler/start-task";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

// The node token is stored encrypted with the instance key; this test's instance has its own.
process.env.SAM_SECRET_KEY = randomBytes(32).toString("hex");

describe("a revision task's start", () => {
  let db: Db;
  let owner: User;
  let projectId: string;
  const nodeId = "node-revision-start";
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const testDb = await makeTestDb();
    const dir = makeTempDir("sam-revision-start-");
    cleanups.push(testDb.cleanup, dir.cleanup);
    db = testDb.db;
    owner = await ensureInstanceOwner(db);
    projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "repo")) })).id;
    await db.insert(nodes).values({ id: nodeId, name: "test node", provider: "local", status: "ready", capacity: 4 });
    const { ciphertext } = await mintNodeToken(db, nodeId);
    // Nothing listens there: the start must end before it asks the node for anything.
    await db.update(nodes).set({ url: "http://127.0.0.1:9", tokenCiphertext: ciphertext }).where(eq(nodes.id, nodeId));
  });
  afterAll(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
  });

  it("a revision of a pull request closed meanwhile fails at its start, saying so, and asks for no workspace", async () => {
    const original = await createTask(db, owner.id, { projectId, prompt: "Write it.", mode: "task" });
    const prId = newId();
    await db.insert(pullRequests).values({
      id: prId,
      projectId,
      number: 1,
      taskId: original.id,
      title: "Write it",
      state: "closed",
      headBranch: original.branch as string,
      baseBranch: "main",
    });
    const revision = await createTask(
      db,
      owner.id,
      { projectId, prompt: "Revise it.", mode: "task", title: "Revise #1: Write it" },
      { revision: { pullRequestId: prId, headBranch: original.branch as string } },
    );
    expect(revision).toMatchObject({
      pullRequestId: prId,
      branch: original.branch,
      baseBranch: original.branch,
      mergesBase: false,
    });
    const claimed = await transitionTask(db, {
      taskId: revision.id,
      from: ["queued"],
      to: "provisioning",
      actor: { kind: "system" },
      set: { nodeId },
    });
    expect(claimed).toBe(true);

    await startClaimedTask(db, revision.id, "http://127.0.0.1:9");

    const after = await db.query.tasks.findFirst({ where: eq(tasks.id, revision.id) });
    expect(after).toMatchObject({ status: "failed", failureReason: "Pull request #1 is closed; nothing to revise" });
    expect(await db.query.workspaces.findMany({ where: eq(workspaces.taskId, revision.id) })).toEqual([]);
  });
});
