import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { loadTaskGraph } from "@/lib/graph/load-task-graph";
import type { TaskGraph } from "@/lib/graph/types";

/** The graph of the tree a task of this project belongs to; anything the user may not see is a 404. */
export async function loadTaskGraphOr404(userId: string, projectId: string, taskId: string): Promise<TaskGraph> {
  try {
    return await loadTaskGraph(getDb(), userId, projectId, taskId);
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") notFound();
    throw err;
  }
}
