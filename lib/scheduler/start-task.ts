import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, nodes, projects, tasks, workspaces } from "@/db/schema";
import { mintTaskToken } from "../auth/task-tokens";
import { SamError } from "../errors";
import { emitTaskChanged } from "../events/bus";
import { newId } from "../ids";
import { type DaemonTarget, daemonClient } from "../nodes/daemon-client";
import { nodeTokenOf } from "../nodes/node-tokens";
import { branchNameFor } from "../tasks/branch-name";
import { modelCredentials } from "../tasks/model-credentials";
import { transitionTask } from "../tasks/transition";

/** Harnesses this version can run on a node; the others arrive with ACP agent support. */
const RUNNABLE_HARNESSES = new Set(["builtin", "builtin-subprocess"]);

/**
 * Brings a claimed (`provisioning`) task to `running`: workspace, token, session. Any failure fails
 * the task with the reason, and the workspace is removed again.
 */
export async function startClaimedTask(db: Db, taskId: string, webUrl: string): Promise<void> {
  let target: DaemonTarget | undefined;
  let workspaceId: string | undefined;
  try {
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
    if (!task?.nodeId || task.status !== "provisioning") return;
    const [project, node, session] = await Promise.all([
      db.query.projects.findFirst({ where: eq(projects.id, task.projectId) }),
      db.query.nodes.findFirst({ where: eq(nodes.id, task.nodeId) }),
      db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) }),
    ]);
    if (!project || !node?.url || !session)
      throw new SamError("internal", "The task's project, node or session is gone");
    const harness = task.harness ?? project.harness;
    if (!RUNNABLE_HARNESSES.has(harness)) {
      throw new SamError(
        "invalid_input",
        `The ${harness} harness cannot run yet; choose builtin in the project's settings`,
      );
    }
    const model = task.model ?? project.model;
    const credentials = await modelCredentials(db, project.id, model);
    target = { url: node.url, token: nodeTokenOf(node) };

    workspaceId = newId();
    const branch = task.branch ?? branchNameFor(task.id, task.title);
    const baseBranch = task.baseBranch ?? project.defaultBranch;
    await db
      .insert(workspaces)
      .values({ id: workspaceId, nodeId: node.id, taskId: task.id, path: "", branch, status: "creating" });
    const workspace = await daemonClient.createWorkspace(target, {
      workspaceId,
      taskId: task.id,
      repo: project.repo,
      baseBranch,
      branch,
    });
    await db.update(workspaces).set({ path: workspace.path, status: "ready" }).where(eq(workspaces.id, workspaceId));
    await db.update(tasks).set({ workspaceId, branch, baseBranch }).where(eq(tasks.id, task.id));

    const taskToken = await mintTaskToken(db, task.id);
    await daemonClient.startSession(target, {
      sessionId: session.id,
      taskId: task.id,
      workspaceId,
      mode: task.mode,
      harness: harness as "builtin" | "builtin-subprocess",
      model,
      ...credentials,
      prompt: task.description,
      mcpUrl: `${webUrl}/api/mcp`,
      network: project.network,
      taskToken,
    });
    await transitionTask(db, {
      taskId: task.id,
      from: ["provisioning"],
      to: "running",
      actor: { kind: "system" },
    });
  } catch (err) {
    const reason = SamError.is(err) ? err.message : `could not start: ${(err as Error).message}`;
    await transitionTask(db, {
      taskId,
      from: ["provisioning"],
      to: "failed",
      actor: { kind: "system" },
      reason,
      set: { failureReason: reason },
    });
    if (target && workspaceId) await releaseWorkspace(db, target, workspaceId);
  }
}

/** Removes a task's workspace from its node (best effort: a node that is gone has no workspace). */
export async function releaseWorkspace(db: Db, target: DaemonTarget, workspaceId: string): Promise<void> {
  try {
    await daemonClient.removeWorkspace(target, workspaceId);
  } catch {
    // The node is unreachable or the workspace was never made; the row records what we know.
  }
  await db.update(workspaces).set({ status: "removed", removedAt: new Date() }).where(eq(workspaces.id, workspaceId));
  // The node has a free place again: a waiting task can start now.
  emitTaskChanged({});
}
