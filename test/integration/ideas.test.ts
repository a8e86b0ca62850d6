import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Db } from "@/db/client";
import { chatSessions, ideaSessionLinks, ideas, tasks } from "@/db/schema";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { SamError } from "@/lib/errors";
import { executeIdea } from "@/lib/ideas/execute";
import { createIdea, getIdea, linkIdea, moveIdea, updateIdea } from "@/lib/ideas/ideas";
import { listSessionIdeas } from "@/lib/ideas/session-ideas";
import { handleMcpRequest } from "@/lib/mcp/server";
import { createProject } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

let db: Db;
let cleanups: (() => void)[];
let owner: User;
let projectId: string;
let otherProjectId: string;

beforeEach(async () => {
  const testDb = await makeTestDb();
  const dir = makeTempDir("sam-ideas-");
  db = testDb.db;
  cleanups = [testDb.cleanup, dir.cleanup];
  owner = await ensureInstanceOwner(db);
  projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "one")) })).id;
  otherProjectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "two")) })).id;
});
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
});

async function samErrorOf(promise: Promise<unknown>): Promise<SamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!SamError.is(err)) throw new Error(`expected a SamError, got ${String(err)}`);
  return err;
}

const fieldsOf = (err: SamError) => (err.details?.fields ?? []).map((f) => f.field);
const user = () => ({ kind: "user" as const, userId: owner.id });

/** A conversation task of a project with its session and a task token. */
async function conversation(project = projectId) {
  const task = await createTask(db, owner.id, { projectId: project, prompt: "Let us talk", mode: "conversation" });
  const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
  return { task, sessionId: session!.id, token: await mintTaskToken(db, task.id) };
}

/** One tools/call through the real MCP handler: the result's JSON, or the JSON-RPC error. */
async function callTool(token: string, name: string, args: unknown) {
  const res = await handleMcpRequest(
    db,
    new Request("http://127.0.0.1/api/mcp", {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
    }),
  );
  const body = (await res.json()) as {
    result?: { content: { text: string }[] };
    error?: { code: number; message: string; data?: { code?: string; fields?: { field: string }[] } };
  };
  return {
    // biome-ignore lint/suspicious/noExplicitAny: each test reads the fields of the tool it called
    result: body.result ? (JSON.parse(body.result.content[0]!.text) as Record<string, any>) : undefined,
    error: body.error,
  };
}

describe("idea rules", () => {
  test("a title must be 1 to 200 characters; the error names the field and nothing is stored", async () => {
    for (const title of ["", "   ", "x".repeat(201)]) {
      const err = await samErrorOf(createIdea(db, projectId, user(), { title }));
      expect(err.code).toBe("invalid_input");
      expect(fieldsOf(err)).toEqual(["title"]);
    }
    expect(await createIdea(db, projectId, user(), { title: "x".repeat(200) })).toMatchObject({ status: "draft" });
    expect(await db.$count(ideas)).toBe(1);
  });

  test("content is at most 65,536 characters, also when appended to", async () => {
    const err = await samErrorOf(createIdea(db, projectId, user(), { title: "Big", content: "x".repeat(65_537) }));
    expect(fieldsOf(err)).toEqual(["content"]);
    const idea = await createIdea(db, projectId, user(), { title: "Big", content: "x".repeat(65_000) });
    const tooMuch = await samErrorOf(updateIdea(db, projectId, idea.id, { append: "y".repeat(600) }));
    expect(fieldsOf(tooMuch)).toEqual(["append"]);
    expect((await getIdea(db, projectId, idea.id)).content).toHaveLength(65_000);
    const appended = await updateIdea(db, projectId, idea.id, { append: "y".repeat(100) });
    expect(appended.content).toBe(`${"x".repeat(65_000)}\n\n${"y".repeat(100)}`);
  });

  test("priority is 0 to 3 and status one of the idea statuses", async () => {
    expect(fieldsOf(await samErrorOf(createIdea(db, projectId, user(), { title: "P", priority: 7 })))).toEqual([
      "priority",
    ]);
    const idea = await createIdea(db, projectId, user(), { title: "P", priority: 3 });
    const unknown = await samErrorOf(updateIdea(db, projectId, idea.id, { status: "someday" }));
    expect(unknown.code).toBe("invalid_input");
    expect(fieldsOf(unknown)).toEqual(["status"]);
    const moveUnknown = await samErrorOf(moveIdea(db, projectId, { ideaId: idea.id, status: "someday" }));
    expect(fieldsOf(moveUnknown)).toEqual(["status"]);
  });

  test("people move ideas between draft, exploring, ready and parked, never into executing or done", async () => {
    const idea = await createIdea(db, projectId, user(), { title: "Move me" });
    for (const status of ["exploring", "ready", "parked", "draft"] as const) {
      expect((await updateIdea(db, projectId, idea.id, { status })).status).toBe(status);
    }
    expect((await samErrorOf(updateIdea(db, projectId, idea.id, { status: "done" }))).code).toBe("invalid_input");
    expect((await samErrorOf(moveIdea(db, projectId, { ideaId: idea.id, status: "executing" }))).code).toBe("conflict");
    expect((await getIdea(db, projectId, idea.id)).status).toBe("draft");
  });

  test("an idea of another project does not exist for this project", async () => {
    const foreign = await createIdea(db, otherProjectId, user(), { title: "Elsewhere" });
    expect((await samErrorOf(getIdea(db, projectId, foreign.id))).code).toBe("not_found");
    expect((await samErrorOf(updateIdea(db, projectId, foreign.id, { title: "Mine now" }))).code).toBe("not_found");
    expect((await samErrorOf(moveIdea(db, projectId, { ideaId: foreign.id, status: "ready" }))).code).toBe("not_found");
    expect((await getIdea(db, otherProjectId, foreign.id)).title).toBe("Elsewhere");
  });

  test("cards keep the order they are dropped in, also after many drops between the same two cards", async () => {
    const a = await createIdea(db, projectId, user(), { title: "A" });
    const b = await createIdea(db, projectId, user(), { title: "B" });
    // New ideas land on top: B, A.
    const order = async () =>
      (
        await db.all<{ title: string }>(
          sql`SELECT title FROM ideas WHERE project_id = ${projectId} AND status = 'ready' ORDER BY position, created_at`,
        )
      ).map((r) => r.title);
    await moveIdea(db, projectId, { ideaId: a.id, status: "ready" });
    await moveIdea(db, projectId, { ideaId: b.id, status: "ready", afterId: a.id });
    expect(await order()).toEqual(["A", "B"]);
    // Each new card goes right after A: the gap between A and the card after it halves every time.
    const titles = ["A"];
    for (let i = 0; i < 14; i++) {
      const card = await createIdea(db, projectId, user(), { title: `C${i}` });
      await moveIdea(db, projectId, { ideaId: card.id, status: "ready", afterId: a.id });
      titles.splice(1, 0, `C${i}`);
    }
    expect(await order()).toEqual([...titles, "B"]);
  });
});

describe("the idea MCP tools", () => {
  test("create_idea stores the idea linked to the caller's session and returns it as `idea`", async () => {
    const talk = await conversation();
    const { result } = await callTool(talk.token, "create_idea", {
      title: "Cache the mirror",
      content: "Clones are slow",
      priority: 2,
      context: "came up while timing clones",
    });
    expect(result?.idea).toMatchObject({ title: "Cache the mirror", status: "draft", priority: 2 });
    const [linked] = await listSessionIdeas(db, talk.sessionId);
    expect(linked).toMatchObject({ id: result?.idea.id, context: "came up while timing clones" });
    expect((await getIdea(db, projectId, result?.idea.id)).createdByTaskId).toBe(talk.task.id);
  });

  test("bad arguments are JSON-RPC errors naming the field", async () => {
    const talk = await conversation();
    for (const [name, args, field] of [
      ["create_idea", { title: "" }, "title"],
      ["create_idea", { title: "x".repeat(201) }, "title"],
      ["create_idea", { title: "ok", priority: 9 }, "priority"],
      ["list_ideas", { status: "someday" }, "status"],
      ["update_idea", { ideaId: "x", status: "someday" }, "status"],
      ["update_idea", { ideaId: "x", status: "done" }, "status"],
    ] as const) {
      const { error } = await callTool(talk.token, name, args);
      expect(error?.code, `${name} ${JSON.stringify(args)}`).toBe(-32602);
      expect(error?.data?.fields?.map((f) => f.field)).toContain(field);
    }
    expect(await db.$count(ideas)).toBe(0);
  });

  test("an idea of another project is not found by any tool", async () => {
    const talk = await conversation();
    const foreign = await createIdea(db, otherProjectId, user(), { title: "Elsewhere" });
    for (const [name, args] of [
      ["get_idea", { ideaId: foreign.id }],
      ["link_idea", { ideaId: foreign.id }],
      ["update_idea", { ideaId: foreign.id, title: "Taken" }],
    ] as const) {
      const { error, result } = await callTool(talk.token, name, args);
      expect(result, name).toBeUndefined();
      expect(error?.data?.code, name).toBe("not_found");
      expect(error?.code, name).toBe(-32004);
    }
    expect((await callTool(talk.token, "list_ideas", {})).result?.ideas).toEqual([]);
    expect(await db.$count(ideaSessionLinks)).toBe(0);
    expect((await getIdea(db, otherProjectId, foreign.id)).title).toBe("Elsewhere");
  });

  test("linking twice keeps one link with the first note", async () => {
    const first = await conversation();
    const second = await conversation();
    const { result: created } = await callTool(first.token, "create_idea", { title: "Shared" });
    const ideaId = created?.idea.id as string;
    const once = await callTool(second.token, "link_idea", { ideaId, context: "first note" });
    const twice = await callTool(second.token, "link_idea", { ideaId, context: "second note" });
    expect(once.result).toMatchObject({ linked: true, idea: { id: ideaId, title: "Shared" } });
    expect(twice.result).toMatchObject({ linked: false, alreadyLinked: true });
    const links = await db.query.ideaSessionLinks.findMany({ where: eq(ideaSessionLinks.ideaId, ideaId) });
    expect(links.map((l) => [l.sessionId, l.context]).sort()).toEqual(
      [
        [first.sessionId, null],
        [second.sessionId, "first note"],
      ].sort(),
    );
    const { result: details } = await callTool(first.token, "get_idea", { ideaId });
    expect(details?.linkedSessions.map((s: { sessionId: string }) => s.sessionId).sort()).toEqual(
      [first.sessionId, second.sessionId].sort(),
    );
    expect(details?.linkedSessions[0].title).toBe("Let us talk");
  });

  test("update_idea appends, re-prioritises and moves; list_ideas filters by status and query", async () => {
    const talk = await conversation();
    const { result } = await callTool(talk.token, "create_idea", {
      title: "Retry flaky pushes",
      content: "Pushes fail",
    });
    const ideaId = result?.idea.id as string;
    await callTool(talk.token, "create_idea", { title: "Unrelated" });
    const { result: updated } = await callTool(talk.token, "update_idea", {
      ideaId,
      append: "Seen twice today (100% of 50_000 pushes?)",
      priority: 3,
      status: "ready",
    });
    expect(updated?.idea).toMatchObject({ status: "ready", priority: 3 });
    expect(updated?.idea.content).toBe("Pushes fail\n\nSeen twice today (100% of 50_000 pushes?)");
    const ready = await callTool(talk.token, "list_ideas", { status: "ready" });
    expect(ready.result?.ideas.map((i: { id: string }) => i.id)).toEqual([ideaId]);
    // The query matches literally: % and _ are not wildcards.
    const literal = await callTool(talk.token, "list_ideas", { query: "100% of 50_000" });
    expect(literal.result?.ideas.map((i: { id: string }) => i.id)).toEqual([ideaId]);
    expect((await callTool(talk.token, "list_ideas", { query: "0%" })).result?.ideas).toHaveLength(1);
    expect((await callTool(talk.token, "list_ideas", { query: "%" })).result?.ideas).toHaveLength(1);
    expect(ready.result?.ideas[0].linkedSessions).toBe(1);
  });
});

describe("executing an idea", () => {
  test("makes a task-mode task carrying the idea and its conversation, linked to the idea", async () => {
    const talk = await conversation();
    const idea = await createIdea(
      db,
      projectId,
      user(),
      { title: "Add a health page", content: "Serve /health" },
      {
        sessionId: talk.sessionId,
        context: "asked for monitoring",
      },
    );
    const task = await executeIdea(db, owner.id, projectId, idea.id);
    expect(task).toMatchObject({ mode: "task", title: "Add a health page", sourceIdeaId: idea.id, depth: 0 });
    expect(task.description).toContain("Serve /health");
    expect(task.description).toContain("asked for monitoring");
    expect(task.description).toContain("> user: Let us talk");
    expect((await getIdea(db, projectId, idea.id)).status).toBe("executing");
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) });
    expect((await listSessionIdeas(db, session!.id)).map((i) => i.id)).toEqual([idea.id]);
  });

  test("an executing idea is refused; two Executes at once make exactly one task", async () => {
    const idea = await createIdea(db, projectId, user(), { title: "Once" });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => executeIdea(db, owner.id, projectId, idea.id)),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes) if (o.status === "rejected") expect((o.reason as SamError).code).toBe("conflict");
    expect(await db.$count(tasks, eq(tasks.sourceIdeaId, idea.id))).toBe(1);
    const again = await samErrorOf(executeIdea(db, owner.id, projectId, idea.id));
    expect(again.message).toMatch(/already executing/);
  });

  test("the task's outcome moves the idea: completed with work stays executing (its PR decides), failed → ready", async () => {
    const good = await createIdea(db, projectId, user(), { title: "Good" });
    const bad = await createIdea(db, projectId, user(), { title: "Bad" });
    const goodTask = await executeIdea(db, owner.id, projectId, good.id);
    const badTask = await executeIdea(db, owner.id, projectId, bad.id);
    const system = { kind: "system" as const };
    await transitionTask(db, { taskId: goodTask.id, from: ["queued"], to: "running", actor: system });
    expect((await getIdea(db, projectId, good.id)).status).toBe("executing");
    await transitionTask(db, { taskId: goodTask.id, from: ["running"], to: "completed", actor: system });
    await transitionTask(db, {
      taskId: badTask.id,
      from: ["queued"],
      to: "failed",
      actor: system,
      set: { failureReason: "tests failed" },
    });
    expect((await getIdea(db, projectId, good.id)).status).toBe("executing");
    expect((await getIdea(db, projectId, bad.id)).status).toBe("ready");
  });

  test("is refused in an archived project, and the idea stays where it was", async () => {
    const idea = await createIdea(db, projectId, user(), { title: "Frozen" });
    await db.run(sql`UPDATE projects SET archived_at = 1 WHERE id = ${projectId}`);
    expect((await samErrorOf(executeIdea(db, owner.id, projectId, idea.id))).code).toBe("conflict");
    expect((await getIdea(db, projectId, idea.id)).status).toBe("draft");
  });
});

test("linkIdea refuses a session of another project", async () => {
  const idea = await createIdea(db, projectId, user(), { title: "Mine" });
  const foreign = await conversation(otherProjectId);
  expect((await linkIdea(db, projectId, idea.id, foreign.sessionId)).linked).toBe(false);
  expect(await db.$count(ideaSessionLinks)).toBe(0);
});
