import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type Db, openDb } from "@/db/client";
import { agentEvents, chatSessions, messages, taskEvents, tasks } from "@/db/schema";
import { SamError } from "@/lib/errors";
import { retrySubtask } from "@/lib/orchestrator/retry";
import { userControllerFor } from "@/lib/orchestrator/user-controller";
import { createProject, setProjectArchived, updateProjectSettings } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

let db: Db;
let dbFile: string;
let cleanups: (() => void)[];
let owner: User;
let projectId: string;

beforeEach(async () => {
  const testDb = await makeTestDb();
  const dir = makeTempDir("sam-root-retry-");
  db = testDb.db;
  dbFile = path.join(testDb.dir, "sam.db");
  cleanups = [testDb.cleanup, dir.cleanup];
  owner = await ensureInstanceOwner(db);
  projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "repo")) })).id;
});
afterEach(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
});

async function samErrorOf(promise: Promise<unknown>): Promise<SamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!SamError.is(err)) throw new Error(`expected a SamError, got ${String(err)}`);
  return err;
}

/** A root task that ran and failed with `reason`, its agent having said `said`. */
async function failedRootTask(prompt: string, reason: string, said = "I tried my best"): Promise<string> {
  const task = await createTask(db, owner.id, { projectId, prompt, mode: "task" });
  await fail(task.id, reason, said);
  return task.id;
}

async function fail(taskId: string, reason: string, said: string): Promise<void> {
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
  await db.insert(agentEvents).values({
    sessionId: session!.id,
    seq: 1,
    type: "agent_text",
    payload: JSON.stringify({ type: "agent_text", text: said }),
  });
  await markFailed(taskId, reason);
}

async function markFailed(taskId: string, reason: string): Promise<void> {
  const moved = await transitionTask(db, {
    taskId,
    from: ["queued"],
    to: "failed",
    actor: { kind: "node" },
    reason,
    set: { failureReason: reason },
  });
  expect(moved).toBe(true);
}

async function retryAsOwner(taskId: string, extraContext?: string) {
  const { controller } = await userControllerFor(db, owner.id, taskId);
  return retrySubtask(db, controller, { taskId, extraContext });
}

describe("retrying a failed root task as the project's user", () => {
  test("creates a new root task in the same lineage with its own session, told why the last attempt failed", async () => {
    const failedId = await failedRootTask("Fix the parser", "agent error: tests fail", "the tokenizer is broken");

    const result = await retryAsOwner(failedId, "Look at the tokenizer first");

    expect(result).toMatchObject({ retryOf: failedId, attempt: 1, status: "queued" });
    const retry = await db.query.tasks.findFirst({ where: eq(tasks.id, result.taskId) });
    const failed = await db.query.tasks.findFirst({ where: eq(tasks.id, failedId) });
    expect(retry).toMatchObject({
      projectId,
      parentId: null,
      rootId: result.taskId,
      depth: 0,
      mode: "task",
      status: "queued",
      title: failed!.title,
      lineageId: failed!.lineageId,
      retryOfId: failedId,
      retryCount: 1,
      createdByUserId: owner.id,
    });
    expect(retry!.branch).not.toBe(failed!.branch);
    for (const part of [
      "Fix the parser",
      "This is retry 1",
      "Failure reason: agent error: tests fail",
      "> the tokenizer is broken",
      "From the user:\nLook at the tokenizer first",
    ]) {
      expect(retry!.description).toContain(part);
    }

    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, result.taskId) });
    expect(session).toMatchObject({ projectId, mode: "task", createdByUserId: owner.id });
    const firstMessages = await db.query.messages.findMany({
      where: eq(messages.sessionId, session!.id),
      orderBy: asc(messages.seq),
    });
    expect(firstMessages).toEqual([
      expect.objectContaining({
        seq: 1,
        role: "user",
        authorKind: "user",
        authorId: owner.id,
        content: retry!.description,
      }),
    ]);
    const history = await db.query.taskEvents.findMany({ where: eq(taskEvents.taskId, result.taskId) });
    expect(history).toEqual([expect.objectContaining({ toStatus: "queued", actorKind: "user", actorId: owner.id })]);
  });

  test("a retried conversation is told what was said after its prompt, each message marked with its sender", async () => {
    const task = await createTask(db, owner.id, {
      projectId,
      prompt: "Let us plan the parser",
      mode: "conversation",
    });
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
    const said = [
      { type: "user_message", text: "Let us plan the parser", source: "user" },
      { type: "agent_text", text: "A tokenizer first, then a Pratt parser." },
      { type: "user_message", text: "Use recursive descent instead", source: "user" },
      { type: "agent_text", text: "Recursive descent it is." },
      { type: "user_message", text: "Check the grammar file too", source: "parent" },
    ];
    await db.insert(agentEvents).values(
      said.map((payload, i) => ({
        sessionId: session!.id,
        seq: i + 1,
        type: payload.type,
        payload: JSON.stringify(payload),
      })),
    );
    await markFailed(task.id, "node lost");

    const result = await retryAsOwner(task.id);
    const retry = await db.query.tasks.findFirst({ where: eq(tasks.id, result.taskId) });
    expect(retry!.description).toContain(
      [
        "> A tokenizer first, then a Pratt parser.",
        "> [from the user] Use recursive descent instead",
        "> Recursive descent it is.",
        "> [from the parent task] Check the grammar file too",
      ].join("\n"),
    );
    // The prompt is the description's own start, not repeated among the messages.
    expect(retry!.description.split("Let us plan the parser")).toHaveLength(2);
  });

  test("a failed revision's retry revises the same pull request on its branch", async () => {
    const failedId = await failedRootTask("Revise #1: Fix the parser", "agent error: gave up");
    await db
      .update(tasks)
      .set({
        pullRequestId: "pr-1",
        branch: "sam/fix-the-parser-12345678",
        baseBranch: "sam/fix-the-parser-12345678",
        mergesBase: true,
      })
      .where(eq(tasks.id, failedId));
    const result = await retryAsOwner(failedId, "Try again");
    expect(await db.query.tasks.findFirst({ where: eq(tasks.id, result.taskId) })).toMatchObject({
      pullRequestId: "pr-1",
      branch: "sam/fix-the-parser-12345678",
      baseBranch: "sam/fix-the-parser-12345678",
      mergesBase: true,
    });
  });

  test("ten concurrent retries over ten connections create exactly one replacement; the others are told it exists", async () => {
    const failedId = await failedRootTask("Race me", "agent error: boom");
    const clients = Array.from({ length: 10 }, () => openDb({ url: `file:${dbFile}` }));
    cleanups.push(() => {
      for (const client of clients) client.$client.close();
    });

    const outcomes = await Promise.allSettled(
      clients.map(async (client) => {
        const { controller } = await userControllerFor(client, owner.id, failedId);
        return retrySubtask(client, controller, { taskId: failedId });
      }),
    );

    const created = outcomes.filter((o) => o.status === "fulfilled");
    expect(created).toHaveLength(1);
    const refusals = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as SamError] : []));
    expect(refusals).toHaveLength(9);
    for (const refusal of refusals) {
      expect(refusal.code).toBe("conflict");
      expect(refusal.message).toMatch(/already retried as/);
    }
    const replacements = await db.query.tasks.findMany({ where: eq(tasks.retryOfId, failedId) });
    expect(replacements.map((t) => t.id)).toEqual([created[0]!.value.taskId]);
    // No orphaned session or message from a refused attempt.
    const sessions = await db.select({ id: chatSessions.id }).from(chatSessions);
    expect(sessions).toHaveLength(2);
  });

  test("a lineage is retried at most the project's retry limit, counted across attempts", async () => {
    await updateProjectSettings(db, owner.id, projectId, { maxRetries: 2 });
    const first = await failedRootTask("Flaky job", "agent error: 1");
    const second = (await retryAsOwner(first)).taskId;
    await fail(second, "agent error: 2", "again");
    const third = (await retryAsOwner(second)).taskId;
    await fail(third, "agent error: 3", "and again");

    const refused = await samErrorOf(retryAsOwner(third));

    expect(refused.code).toBe("limit_reached");
    expect(refused.message).toMatch(/retried 2 times, and the project's limit is 2/);
    const lineage = await db.query.tasks.findMany({ where: eq(tasks.lineageId, first) });
    expect(lineage).toHaveLength(3);
    expect((await db.query.tasks.findFirst({ where: eq(tasks.id, third) }))?.retryCount).toBe(2);
  });

  test("only a failed task is retried: a queued or cancelled one is refused and nothing is created", async () => {
    const queued = await createTask(db, owner.id, { projectId, prompt: "Not yet", mode: "task" });
    expect((await samErrorOf(retryAsOwner(queued.id))).code).toBe("conflict");
    await transitionTask(db, { taskId: queued.id, from: ["queued"], to: "cancelled", actor: { kind: "user" } });
    const refused = await samErrorOf(retryAsOwner(queued.id));
    expect(refused.message).toMatch(/cancelled; only a failed task can be retried/);
    expect(await db.query.tasks.findMany({ where: eq(tasks.projectId, projectId) })).toHaveLength(1);
  });

  test("a task of an archived project is not retried", async () => {
    const failedId = await failedRootTask("Old work", "agent error: x");
    await setProjectArchived(db, owner.id, projectId, true);
    const refused = await samErrorOf(retryAsOwner(failedId));
    expect(refused.code).toBe("conflict");
    expect(refused.message).toMatch(/archived/);
    expect(await db.query.tasks.findMany({ where: eq(tasks.retryOfId, failedId) })).toHaveLength(0);
  });

  test("a user who is not a member of the project is told the task does not exist", async () => {
    const failedId = await failedRootTask("Private", "agent error: y");
    const outsider = await createLocalUser(db, { email: "outsider@example.com" });
    const refused = await samErrorOf(userControllerFor(db, outsider.id, failedId));
    expect(refused.code).toBe("not_found");
    // Under another project's URL the task does not exist either, even for a member.
    expect((await samErrorOf(userControllerFor(db, owner.id, failedId, "another-project"))).code).toBe("not_found");
  });
});
