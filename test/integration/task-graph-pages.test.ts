import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { mintTaskToken } from "@/lib/auth/task-tokens";
import { newId } from "@/lib/ids";
import { handleMcpRequest } from "@/lib/mcp/server";
import { createProject } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { ensureInstanceOwner } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

interface Node {
  id: string;
  status: string;
}
interface Page {
  task: Node;
  parent: Node | null;
  children: Node[];
  siblings: Node[];
  edges: { taskId: string; dependsOnTaskId: string }[];
  blocked: { taskId: string; waitingOn: { id: string }[] }[];
  nextCursor?: string;
}
interface RpcError {
  code: number;
  message: string;
  data?: { code?: string; fields?: { field: string; message: string }[] };
}

let db: Db;
let cleanups: (() => void)[];
let parentToken: string;
let parentId: string;
/** The parent's children in the order they were made. */
let children: string[];
/** The first child has children of its own. */
let grandchildren: string[];
let edges: [string, string][];

/** One tools/call through the real MCP handler (the endpoint's code, without HTTP). */
async function call(token: string, args: unknown): Promise<{ page?: Page; error?: RpcError }> {
  const res = await handleMcpRequest(
    db,
    new Request("http://127.0.0.1/api/mcp", {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "get_task_dependencies", arguments: args },
      }),
    }),
  );
  const body = (await res.json()) as { result?: { content: { text: string }[] }; error?: RpcError };
  return { page: body.result ? (JSON.parse(body.result.content[0]!.text) as Page) : undefined, error: body.error };
}

async function walk(args: Record<string, unknown>): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const { page, error } = await call(parentToken, cursor ? { ...args, cursor } : args);
    expect(error, JSON.stringify(error)).toBeUndefined();
    pages.push(page!);
    cursor = page!.nextCursor;
  } while (cursor);
  return pages;
}

async function insertTasks(projectId: string, parent: string, rootId: string, depth: number, n: number) {
  const ids = Array.from({ length: n }, () => newId());
  await db.run(sql`
    INSERT INTO tasks (id, project_id, parent_id, root_id, depth, mode, status, title, description, lineage_id)
    VALUES ${sql.join(
      ids.map(
        (id, i) =>
          sql`(${id}, ${projectId}, ${parent}, ${rootId}, ${depth}, 'task', ${i % 3 === 0 ? "completed" : "queued"}, ${`Task ${i}`}, ${`Task ${i}`}, ${id})`,
      ),
      sql`, `,
    )}`);
  return ids;
}

beforeAll(async () => {
  const testDb = await makeTestDb();
  const dir = makeTempDir("sam-graph-pages-");
  db = testDb.db;
  cleanups = [testDb.cleanup, dir.cleanup];
  const owner = await ensureInstanceOwner(db);
  const project = await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "repo")) });
  parentId = (await createTask(db, owner.id, { projectId: project.id, prompt: "A wide parent" })).id;
  parentToken = await mintTaskToken(db, parentId);
  children = await insertTasks(project.id, parentId, parentId, 1, 250);
  grandchildren = await insertTasks(project.id, children[0]!, parentId, 2, 30);
  // Each child from the 10th on waits on two earlier ones: 480 edges, none closing a cycle.
  edges = children
    .slice(10)
    .flatMap((id, i) => [[id, children[i]!] as [string, string], [id, children[i + 5]!] as [string, string]]);
  await db.run(sql`
    INSERT INTO task_dependencies (task_id, depends_on_task_id)
    VALUES ${sql.join(
      edges.map(([a, b]) => sql`(${a}, ${b})`),
      sql`, `,
    )}`);
});
afterAll(() => {
  for (const cleanup of cleanups ?? []) cleanup();
});

const ids = (nodes: Node[]) => nodes.map((n) => n.id);
const edgeKey = (e: { taskId: string; dependsOnTaskId: string }) => `${e.taskId}>${e.dependsOnTaskId}`;

describe("get_task_dependencies is read in pages of at most 100 tasks", () => {
  it("a parent of 250 children reads them in 3 pages: every child exactly once, each page with its own edges and blockers only", async () => {
    const pages = await walk({});
    expect(pages.map((p) => p.children.length)).toEqual([100, 100, 50]);
    expect(pages.at(-1)!.nextCursor).toBeUndefined();
    const seen = pages.flatMap((p) => ids(p.children));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...children].sort());

    const statusOf = new Map(pages.flatMap((p) => p.children).map((c) => [c.id, c.status]));
    for (const page of pages) {
      expect(page.task.id).toBe(parentId);
      expect(page.siblings).toEqual([]);
      const onPage = new Set([...ids(page.children), ...(page === pages[0] ? [parentId] : [])]);
      // The edges of the page's tasks, all of them and no others.
      expect(page.edges.every((e) => onPage.has(e.taskId))).toBe(true);
      expect(page.edges.map(edgeKey).sort()).toEqual(
        edges
          .filter(([a]) => onPage.has(a))
          .map(([taskId, dependsOnTaskId]) => edgeKey({ taskId, dependsOnTaskId }))
          .sort(),
      );
      // Blocked: the page's queued tasks that wait on a task not completed, with exactly those.
      const expected = page.children
        .filter((c) => c.status === "queued")
        .map((c) => ({
          taskId: c.id,
          waitingOn: edges.filter(([a, b]) => a === c.id && statusOf.get(b) !== "completed").map(([, b]) => b),
        }))
        .filter((b) => b.waitingOn.length > 0);
      expect(page.blocked.map((b) => ({ taskId: b.taskId, waitingOn: ids(b.waitingOn as Node[]).sort() }))).toEqual(
        expected.map((b) => ({ ...b, waitingOn: b.waitingOn.sort() })),
      );
    }
    // Every edge exactly once across the pages.
    const allEdges = pages.flatMap((p) => p.edges.map(edgeKey));
    expect(allEdges.length).toBe(edges.length);
    expect(new Set(allEdges).size).toBe(edges.length);
  });

  it("a child's view lists its own children first, then its siblings, each once, at any page size", async () => {
    const pages = await walk({ taskId: children[0]!, limit: 7 });
    expect(pages.every((p) => p.children.length + p.siblings.length <= 7)).toBe(true);
    expect(pages.every((p) => p.task.id === children[0] && p.parent?.id === parentId)).toBe(true);
    const seenChildren = pages.flatMap((p) => ids(p.children));
    const seenSiblings = pages.flatMap((p) => ids(p.siblings));
    expect(seenChildren.sort()).toEqual([...grandchildren].sort());
    expect(new Set(seenSiblings).size).toBe(seenSiblings.length);
    expect(seenSiblings.sort()).toEqual(children.slice(1).sort());
    // Children come before any sibling: once a page lists siblings, no later page lists children.
    const firstWithSiblings = pages.findIndex((p) => p.siblings.length > 0);
    expect(pages.slice(firstWithSiblings + 1).every((p) => p.children.length === 0)).toBe(true);
    expect(pages.length).toBe(Math.ceil((30 + 249) / 7));
  });

  it("a bad cursor or limit is refused as invalid input naming the field", async () => {
    const first = (await call(parentToken, { limit: 10 })).page!;
    const cases: [unknown, string, RegExp][] = [
      [{ cursor: "not a cursor" }, "cursor", /not a cursor from get_task_dependencies/],
      [{ cursor: Buffer.from('{"of":"x"}').toString("base64url") }, "cursor", /not a cursor/],
      [{ taskId: children[0], cursor: first.nextCursor }, "cursor", /belongs to the graph of task/],
      [{ cursor: "" }, "cursor", /./],
      [{ limit: 0 }, "limit", /./],
      [{ limit: 101 }, "limit", /./],
      [{ limit: 2.5 }, "limit", /./],
      [{ limit: "10" }, "limit", /./],
    ];
    for (const [args, field, message] of cases) {
      const { error } = await call(parentToken, args);
      expect(error?.data?.code, JSON.stringify(args)).toBe("invalid_input");
      expect(
        error!.data!.fields!.map((f) => f.field),
        JSON.stringify(args),
      ).toEqual([field]);
      expect(error!.message).toMatch(message);
    }
    // A cursor is no key to another task's graph: the caller's rights are checked on every page.
    const grandchildToken = await mintTaskToken(db, grandchildren[1]!);
    const { error } = await call(grandchildToken, { taskId: parentId, cursor: first.nextCursor });
    expect(error?.data?.code).toBe("forbidden");
  });
});
