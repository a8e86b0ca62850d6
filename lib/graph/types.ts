import type { PullRequestState, TaskMode, TaskStatus } from "@/db/schema";

/** A task as a card of the graph shows it. */
export interface GraphTask {
  id: string;
  title: string;
  status: TaskStatus;
  mode: TaskMode;
  depth: number;
  parentId: string | null;
  /** The agent that runs the task: its harness and model (the project's when the task has none of its own). */
  harness: string;
  model: string;
  /** The pull request the task's work opened, if any. */
  pr: { number: number; state: PullRequestState; url: string | null } | null;
  /** Queued and waiting on a dependency that has not completed (as the sidebar's BLOCKED). */
  blocked: boolean;
  /** Direct subtasks not yet ended. */
  activeChildren: number;
}

/** `taskId` waits on `dependsOnTaskId`; `blocking` while the dependency has not completed. */
export interface GraphDependency {
  taskId: string;
  dependsOnTaskId: string;
  blocking: boolean;
}

/** A root task's whole tree, whichever of its tasks was asked for (`focusId`). */
export interface TaskGraph {
  projectId: string;
  rootId: string;
  focusId: string;
  /** Root first, then by depth and creation. */
  tasks: GraphTask[];
  dependencies: GraphDependency[];
  /** The project's change cursor read before the tree: the sidebar stream started from it misses no change. */
  changesAfter: number;
}
