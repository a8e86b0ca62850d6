import { and, asc, eq, gt, ne, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { tasks } from "@/db/schema";
import { SamError } from "../errors";
import { parseInput } from "../validation";

/** The most children and siblings one answer lists: a wide tree is read page by page. */
export const TASK_GRAPH_PAGE_MAX = 100;

export const taskGraphInputSchema = z
  .object({
    taskId: z.string().min(1).max(100).optional(),
    limit: z.number().int().min(1).max(TASK_GRAPH_PAGE_MAX).default(TASK_GRAPH_PAGE_MAX),
    cursor: z.string().min(1).max(400).optional(),
  })
  .strict();

/** Where a page of the graph of task `of` starts: after task `after` of its children, or of its siblings. */
const cursorSchema = z
  .object({
    of: z.string().min(1).max(100),
    list: z.enum(["children", "siblings"]),
    /** Absent: the list from its start. */
    after: z.string().min(1).max(100).optional(),
  })
  .strict();
type Cursor = z.infer<typeof cursorSchema>;

const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString("base64url");

function badCursor(message: string): SamError {
  return new SamError("invalid_input", `Invalid input: cursor: ${message}`, { fields: [{ field: "cursor", message }] });
}

function decodeCursor(text: string, taskId: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const cursor = cursorSchema.safeParse(parsed);
  if (!cursor.success) throw badCursor("is not a cursor from get_task_dependencies (pass nextCursor as it came)");
  if (cursor.data.of !== taskId) throw badCursor(`belongs to the graph of task ${cursor.data.of}, not of ${taskId}`);
  return cursor.data;
}

const nodeColumns = {
  id: tasks.id,
  title: tasks.title,
  status: tasks.status,
  mode: tasks.mode,
  parentId: tasks.parentId,
  branch: tasks.branch,
  prUrl: tasks.prUrl,
  failureReason: tasks.failureReason,
  retryOfId: tasks.retryOfId,
};
type GraphRow = Awaited<ReturnType<typeof childrenAfter>>[number];

/** Up to `limit` children of `parentId` after `after` in id order, one more to tell whether more remain. */
function childrenAfter(db: Db, parentId: string, after: string | undefined, limit: number, except?: string) {
  const conditions: SQL[] = [eq(tasks.parentId, parentId)];
  if (after !== undefined) conditions.push(gt(tasks.id, after));
  if (except !== undefined) conditions.push(ne(tasks.id, except));
  return db
    .select(nodeColumns)
    .from(tasks)
    .where(and(...conditions))
    .orderBy(asc(tasks.id))
    .limit(limit + 1);
}

/**
 * The graph around a task, a page at a time: the task and its parent, then its children and its
 * siblings (status, branch, PR) in pages of at most TASK_GRAPH_PAGE_MAX, children first. Each page
 * carries the dependency edges of its own tasks (what they depend on; the first page also the task's
 * and its parent's) and what each of its blocked tasks waits on, so every edge comes exactly once
 * across the pages. `nextCursor` is there while more remain. The caller may look at itself or at one
 * of its children.
 */
export async function taskGraph(db: Db, caller: { taskId: string; projectId: string }, input: unknown) {
  const { taskId = caller.taskId, limit, cursor: cursorText } = parseInput(taskGraphInputSchema, input);
  const [task] = await db.select(nodeColumns).from(tasks).where(eq(tasks.id, taskId));
  if (!task || (task.id !== caller.taskId && task.parentId !== caller.taskId)) {
    throw new SamError("forbidden", `Cannot read the graph of task ${taskId}: only your own task or your subtasks`);
  }
  const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText, task.id);
  if (cursor?.list === "siblings" && !task.parentId) throw badCursor("lists siblings, but the task has no parent");
  const [parent] = task.parentId ? await db.select(nodeColumns).from(tasks).where(eq(tasks.id, task.parentId)) : [];

  let children: GraphRow[] = [];
  let siblings: GraphRow[] = [];
  let nextCursor: Cursor | undefined;
  if (cursor?.list !== "siblings") {
    const fetched = await childrenAfter(db, task.id, cursor?.after, limit);
    children = fetched.slice(0, limit);
    if (fetched.length > limit) nextCursor = { of: task.id, list: "children", after: children.at(-1)!.id };
  }
  if (!nextCursor && parent) {
    // The siblings fill what room the children left; with none left, one row says whether they follow.
    const room = limit - children.length;
    const fetched = await childrenAfter(
      db,
      parent.id,
      cursor?.list === "siblings" ? cursor.after : undefined,
      room,
      task.id,
    );
    siblings = fetched.slice(0, room);
    if (fetched.length > room) nextCursor = { of: task.id, list: "siblings", after: siblings.at(-1)?.id };
  }

  const firstPage = cursor === undefined;
  const listed: GraphRow[] = [...(firstPage ? [task, ...(parent ? [parent] : [])] : []), ...children, ...siblings];
  // The page's edges with what each points at, in one read; the ids go as one JSON parameter.
  const rows =
    listed.length === 0
      ? []
      : await db.all<{ taskId: string; dependsOnTaskId: string; title: string; status: string }>(sql`
          SELECT d.task_id AS taskId, d.depends_on_task_id AS dependsOnTaskId, b.title, b.status
          FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_task_id
          WHERE d.task_id IN (SELECT value FROM json_each(${JSON.stringify(listed.map((n) => n.id))}))`);
  const edges = rows.map((r) => ({ taskId: r.taskId, dependsOnTaskId: r.dependsOnTaskId }));
  // What each task of the page waits on: the tasks its edges point at that have not completed.
  const waitingOf = new Map<string, { id: string; title: string; status: string }[]>();
  for (const r of rows) {
    if (r.status === "completed") continue;
    waitingOf.set(r.taskId, [
      ...(waitingOf.get(r.taskId) ?? []),
      { id: r.dependsOnTaskId, title: r.title, status: r.status },
    ]);
  }
  const blocked = listed
    .filter((n) => n.status === "queued" && waitingOf.has(n.id))
    .map((n) => ({ taskId: n.id, waitingOn: waitingOf.get(n.id)! }));
  return {
    task,
    parent: parent ?? null,
    children,
    siblings,
    edges,
    blocked,
    ...(nextCursor ? { nextCursor: encodeCursor(nextCursor) } : {}),
  };
}
