import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type TaskStatus, tasks } from "@/db/schema";
import { childTaskStatements } from "@/lib/orchestrator/child-task";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";

export interface SeededTree {
  rootId: string;
  /** Every task of the tree, the root first, breadth-first. */
  ids: string[];
  /** How many dependency edges the tree has. */
  dependencies: number;
}

// What the seeded leaves do, in turn: a tree at work has some of everything.
const LEAF_STATUSES: (TaskStatus | null)[] = ["completed", "running", null, "completed", "awaiting_followup"];

/**
 * A root task with `count - 1` subtasks below it, `branching` per parent, breadth-first, created by
 * the path dispatch_task takes (`childTaskStatements`, one batch per task). Every fourth subtask
 * waits on its previous sibling. Leaves move on to the statuses above through `transitionTask`;
 * parents stay queued, so no end cascades through the tree. The dispatch limits of a project allow
 * at most 50 live subtasks: the seed first raises this project's limits past that, in the database.
 */
export async function seedTaskTree(
  db: Db,
  { projectId, userId, count, branching = 8 }: { projectId: string; userId: string; count: number; branching?: number },
): Promise<SeededTree> {
  await db.run(sql`UPDATE projects SET max_depth = 10, max_children = ${branching},
    max_active_dispatched = max_active_dispatched + ${count}
    WHERE id = ${projectId}`);
  const root = await createTask(db, userId, { projectId, prompt: `Build the product (${count} tasks)`, mode: "task" });
  const nodes = [{ id: root.id, depth: 0 }];
  let dependencies = 0;
  for (let i = 1; i < count; i++) {
    const parent = nodes[Math.floor((i - 1) / branching)]!;
    const previousSibling = (i - 1) % branching === 0 ? undefined : nodes[i - 1];
    const dependsOn = i % 4 === 0 && previousSibling ? [previousSibling.id] : [];
    const { id, statements } = childTaskStatements(db, {
      parentId: parent.id,
      projectId,
      rootId: root.id,
      depth: parent.depth + 1,
      mode: "task",
      title: `Subtask ${i}`,
      description: `Seeded subtask ${i}`,
      dependsOn,
    });
    const [inserted] = await db.batch(statements);
    if (inserted.rowsAffected !== 1) throw new Error(`Subtask ${i} was refused`);
    nodes.push({ id, depth: parent.depth + 1 });
    dependencies += dependsOn.length;
  }
  const parents = new Set(
    (await db.select({ parentId: tasks.parentId }).from(tasks).where(eq(tasks.rootId, root.id))).map((t) => t.parentId),
  );
  for (const [i, node] of nodes.entries()) {
    const to = LEAF_STATUSES[i % LEAF_STATUSES.length];
    if (i === 0 || parents.has(node.id) || !to) continue;
    await transitionTask(db, { taskId: node.id, from: ["queued"], to, actor: { kind: "system" } });
  }
  return { rootId: root.id, ids: nodes.map((n) => n.id), dependencies };
}
