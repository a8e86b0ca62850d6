import { MERGE_STRATEGIES, type MergeStrategy } from "@sam/agent-daemon/contract";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { nodes, type TaskStatus, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { daemonClient, daemonTargetOf } from "../nodes/daemon-client";
import { LIVE_SESSION_STATUSES } from "../tasks/statuses";
import { parseInput } from "../validation";
import { requireControllable } from "./authorize";

export const mergeSubtaskSchema = z
  .object({
    taskId: z.string().min(1, { message: "A task id is required" }).max(200),
    strategy: z
      .enum(MERGE_STRATEGIES, { message: `The strategy is one of ${MERGE_STRATEGIES.join(", ")}` })
      .default("merge"),
  })
  .strict();

export interface MergeSubtaskResult {
  /** False when your branch already held the subtask's work: nothing was committed. */
  merged: boolean;
  /** Your workspace's HEAD afterwards. */
  commit: string;
  strategy: MergeStrategy;
  branch: string;
}

/** A child's work can be merged once it has ended with a pushed branch (a stopped child pushes what it had). */
const MERGEABLE = new Set(["completed", "failed"]);

// What the daemon refuses because of the workspace or the branch, in its own words: the caller's to fix.
const REFUSALS = new Set(["merge_conflict", "workspace_dirty", "workspace_busy", "merge_failed", "branch_not_found"]);

/**
 * Brings a child's pushed branch into the caller's live workspace, so the caller's own save and push
 * carry it: a merge commit (`merge`), one commit of all of it (`squash`) or its commits replayed
 * (`rebase`). Only the direct parent may do it, while it runs; a conflict merges nothing and names
 * the paths.
 */
export async function mergeSubtask(
  db: Db,
  caller: { taskId: string; projectId: string },
  input: z.input<typeof mergeSubtaskSchema>,
): Promise<MergeSubtaskResult> {
  const { taskId, strategy } = parseInput(mergeSubtaskSchema, input);
  const child = await requireControllable(db, { kind: "task", ...caller }, taskId, "merge");
  if (!MERGEABLE.has(child.status)) {
    throw new SamError(
      "conflict",
      `Subtask ${child.id} has not finished (${child.status}); merge it once it has ended with its work pushed`,
    );
  }
  if (!child.branch) {
    throw new SamError("conflict", `Subtask ${child.id} changed nothing: it has no branch to merge`);
  }
  const parent = await db.query.tasks.findFirst({ where: eq(tasks.id, caller.taskId) });
  // A parent woken by its child's end may still show as waiting: its workspace is live all the same.
  if (
    !parent ||
    !(LIVE_SESSION_STATUSES as readonly TaskStatus[]).includes(parent.status) ||
    !parent.workspaceId ||
    !parent.nodeId
  ) {
    throw new SamError("conflict", "Your task has no live workspace to merge into; call merge_subtask while you run");
  }
  const node = await db.query.nodes.findFirst({ where: eq(nodes.id, parent.nodeId) });
  const target = node && daemonTargetOf(db, node);
  if (!target) throw new SamError("unavailable", "Your workspace's node cannot be reached");

  try {
    const result = await daemonClient.mergeIntoWorkspace(target, parent.workspaceId, {
      branch: child.branch,
      title: child.title,
      strategy,
    });
    return { ...result, branch: child.branch };
  } catch (err) {
    const details = SamError.is(err) ? err.details : undefined;
    if (typeof details?.daemonCode === "string" && REFUSALS.has(details.daemonCode)) {
      throw new SamError("conflict", String(details.daemonMessage), { reason: details.daemonCode });
    }
    throw err;
  }
}
