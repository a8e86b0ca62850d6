import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { inboxMessages, taskEvents, tasks } from "@/db/schema";
import { applySessionLifecycle } from "@/lib/events/session-lifecycle";
import { NO_CHANGES_REASON } from "@/lib/ideas/task-outcome";
import { dispatchTask } from "@/lib/orchestrator/dispatch";
import { createProject } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

describe("a session that finishes without a branch", () => {
  let db: Db;
  let cleanup: () => void;
  const tmp = makeTempDir("sam-no-changes-int-");
  let ownerId: string;
  let projectId: string;

  beforeAll(async () => {
    ({ db, cleanup } = await makeTestDb());
    ownerId = (await ensureInstanceOwner(db)).id;
    projectId = (await createProject(db, ownerId, { repo: makeGitRepo(path.join(tmp.dir, "repo")) })).id;
  });
  afterAll(() => {
    cleanup();
    tmp.cleanup();
  });

  const row = async (taskId: string) => (await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) }))!;

  async function runningChild(mode: "task" | "conversation") {
    const parent = await createTask(db, ownerId, { projectId, prompt: "Plan it", mode: "conversation" });
    const { taskId } = await dispatchTask(
      db,
      { taskId: parent.id, projectId },
      { title: "Look it over", description: "Look it over", mode },
    );
    await transitionTask(db, { taskId, from: ["queued"], to: "running", actor: { kind: "system" } });
    return { parentId: parent.id, childId: taskId };
  }

  it("completes a task-mode task that changed nothing with no branch, the reason, and its parent told", async () => {
    const { parentId, childId } = await runningChild("task");
    expect((await row(childId)).branch).toMatch(/^sam\//);
    await applySessionLifecycle(db, childId, { type: "session_finished", outcome: "completed" });
    const child = await row(childId);
    expect(child.status).toBe("completed");
    expect(child.branch).toBeNull();
    const completion = await db.query.taskEvents.findFirst({
      where: and(eq(taskEvents.taskId, childId), eq(taskEvents.toStatus, "completed")),
    });
    expect(completion?.reason).toBe(NO_CHANGES_REASON);
    const told = await db.query.inboxMessages.findFirst({
      where: and(eq(inboxMessages.taskId, parentId), eq(inboxMessages.kind, "child_ended")),
    });
    expect(told?.body).toContain("ended: completed No changes: no branch was pushed.");
    expect(told?.body).not.toContain("Branch:");
  });

  it("a completed task with a branch keeps it; a conversation keeps its record as it was", async () => {
    const changed = await runningChild("task");
    const branch = (await row(changed.childId)).branch!;
    await applySessionLifecycle(db, changed.childId, { type: "session_finished", outcome: "completed", branch });
    expect(await row(changed.childId)).toMatchObject({ status: "completed", branch });

    const talk = await runningChild("conversation");
    const before = (await row(talk.childId)).branch;
    await applySessionLifecycle(db, talk.childId, { type: "session_finished", outcome: "completed" });
    expect(await row(talk.childId)).toMatchObject({ status: "completed", branch: before });
  });
});
