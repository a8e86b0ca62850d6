import { type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { TaskMode } from "@/db/schema";
import { newId } from "../ids";
import { branchNameFor } from "../tasks/branch-name";
import { ACTIVE_STATUSES, TERMINAL_STATUSES } from "../tasks/statuses";

const activeList = sql.join(
  ACTIVE_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);
const terminalList = sql.join(
  TERMINAL_STATUSES.map((s) => sql`${s}`),
  sql`, `,
);

export interface ChildSpec {
  parentId: string;
  projectId: string;
  rootId: string;
  depth: number;
  mode: TaskMode;
  title: string;
  description: string;
  baseBranch?: string;
  lineageId?: string;
  retryOfId?: string;
  retryCount?: number;
  /** Sibling tasks the child waits on; all must be children of the same parent. */
  dependsOn: string[];
  /** A further condition for the insert (retry adds its own). */
  guard?: SQL;
}

/**
 * The statements that create a child task with its session, first message, creation event and
 * dependency edges, to run in one batch. Everything hangs on the first statement: the guarded
 * INSERT. When it inserts nothing, the rest inserts nothing either.
 */
export function childTaskStatements(db: Db, spec: ChildSpec) {
  const id = newId();
  const sessionId = newId();
  const exists = sql`EXISTS (SELECT 1 FROM tasks WHERE id = ${id})`;
  const deps =
    spec.dependsOn.length > 0
      ? sql.join(
          spec.dependsOn.map((d) => sql`${d}`),
          sql`, `,
        )
      : undefined;
  const statements = [
    // Invariant: the depth, the parent's active children and the project's active dispatched tasks
    // stay within the project's limits, and a child only joins a live parent — checked in this one
    // statement, so concurrent dispatches cannot overshoot. Zero rows: a limit was hit.
    // The project count reads only the project's active rows (project_id, status): left to itself the
    // planner takes the covering (project_id, depth, status) index and walks every dispatched task the
    // project ever had, so each dispatch got slower as the project's history grew.
    db.run(sql`
      INSERT INTO tasks (id, project_id, parent_id, root_id, depth, mode, status, title, description, base_branch,
        branch, lineage_id, retry_of_id, retry_count)
      SELECT ${id}, ${spec.projectId}, ${spec.parentId}, ${spec.rootId}, ${spec.depth}, ${spec.mode}, 'queued',
        ${spec.title}, ${spec.description}, ${spec.baseBranch ?? null}, ${branchNameFor(id, spec.title)},
        ${spec.lineageId ?? id}, ${spec.retryOfId ?? null}, ${spec.retryCount ?? 0}
      FROM projects p
      WHERE p.id = ${spec.projectId}
        AND ${spec.depth} <= p.max_depth
        AND (SELECT count(*) FROM tasks WHERE parent_id = ${spec.parentId} AND status IN (${activeList})) < p.max_children
        AND (SELECT count(*) FROM tasks INDEXED BY tasks_project_status_idx
            WHERE project_id = ${spec.projectId} AND depth > 0 AND status IN (${activeList}))
          < p.max_active_dispatched
        AND (SELECT status FROM tasks WHERE id = ${spec.parentId}) NOT IN (${terminalList})
        ${
          deps
            ? sql`AND (SELECT count(*) FROM tasks WHERE id IN (${deps}) AND parent_id = ${spec.parentId}) = ${spec.dependsOn.length}`
            : sql``
        }
        ${spec.guard ? sql`AND (${spec.guard})` : sql``}`),
    db.run(sql`
      INSERT INTO chat_sessions (id, project_id, task_id, mode, title)
      SELECT ${sessionId}, ${spec.projectId}, ${id}, ${spec.mode}, ${spec.title} WHERE ${exists}`),
    db.run(sql`
      INSERT INTO messages (id, session_id, seq, role, author_kind, author_id, content)
      SELECT ${newId()}, ${sessionId}, 1, 'user', 'parent', ${spec.parentId}, ${spec.description} WHERE ${exists}`),
    db.run(sql`
      INSERT INTO task_events (task_id, from_status, to_status, actor_kind, actor_id)
      SELECT ${id}, NULL, 'queued', 'task', ${spec.parentId} WHERE ${exists}`),
    ...spec.dependsOn.map((dep) =>
      // A new task has no dependents yet, so its own edges cannot close a cycle.
      db.run(sql`INSERT INTO task_dependencies (task_id, depends_on_task_id) SELECT ${id}, ${dep} WHERE ${exists}`),
    ),
  ] as const;
  return { id, statements };
}
