import { HARNESS_KINDS, type HarnessKind } from "@sam/agent-daemon/contract";
import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, nodes, projects, pullRequests, taskDependencies, tasks, workspaces } from "@/db/schema";
import { startTaskWithToken } from "../auth/task-tokens";
import { SamError } from "../errors";
import { newId } from "../ids";
import { TOOLS } from "../mcp/tools";
import { daemonClient, daemonTargetOf } from "../nodes/daemon-client";
import { lostAttemptBranches } from "../nodes/lost-nodes";
import { branchNameFor } from "../tasks/branch-name";
import { modelCredentials } from "../tasks/model-credentials";
import { transitionTask } from "../tasks/transition";
import { releaseEndedWorkspaces } from "./release-workspaces";

function isHarnessKind(value: string): value is HarnessKind {
  return (HARNESS_KINDS as readonly string[]).includes(value);
}

/** SAM's own agent; every other harness is an external ACP agent. */
const BUILTIN_HARNESSES = new Set(["builtin", "builtin-subprocess"]);

/**
 * The first prompt of an external agent names SAM's tools: some agents (Claude Code's tool search)
 * only reach MCP tools through a search step, which needs names to search for.
 */
function promptFor(harness: string, description: string): string {
  if (BUILTIN_HARNESSES.has(harness)) return description;
  const names = TOOLS.map((tool) => tool.name).join(", ");
  return `${description}\n\n(SAM's tools are on its MCP server "sam": ${names}. Start with get_instructions.)`;
}

/**
 * The branches of the tasks this one depends on, in the order the dependencies were added, for its
 * workspace to start with their work merged in. It only starts once they all completed; one that
 * never started has no branch.
 */
function dependencyBranches(db: Db, taskId: string) {
  return db
    .select({ taskId: tasks.id, title: tasks.title, branch: tasks.branch })
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnTaskId))
    .where(and(eq(taskDependencies.taskId, taskId), isNotNull(tasks.branch)))
    .orderBy(asc(taskDependencies.createdAt), asc(sql`${taskDependencies}.rowid`))
    .then((rows) => rows.map((row) => ({ ...row, branch: row.branch as string })));
}

type TaskRow = typeof tasks.$inferSelect;

/**
 * Where a task's workspace starts: its branch and base, and the branches merged in first. A
 * revision task works on its pull request's branch itself (its save pushes there as a
 * fast-forward); one that resolves conflicts merges the PR's base branch in last, leaving the
 * conflicts in the files for its agent.
 */
async function workspaceStart(db: Db, task: TaskRow, defaultBranch: string) {
  if (!task.pullRequestId) {
    return {
      branch: task.branch ?? branchNameFor(task.id, task.title),
      baseBranch: task.baseBranch ?? defaultBranch,
      // An attempt re-queued after its node was lost picks up the work the lost one had pushed.
      mergeBranches: [...(await lostAttemptBranches(db, task)), ...(await dependencyBranches(db, task.id))],
    };
  }
  const pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.id, task.pullRequestId) });
  if (!pr) throw new SamError("conflict", "The pull request it revises is gone");
  if (pr.state !== "open")
    throw new SamError("conflict", `Pull request #${pr.number} is ${pr.state}; nothing to revise`);
  return {
    branch: pr.headBranch,
    baseBranch: pr.headBranch,
    mergeBranches: task.mergesBase
      ? [
          {
            taskId: pr.taskId,
            title: `${pr.baseBranch} (base of #${pr.number})`,
            branch: pr.baseBranch,
            leaveConflicts: true,
          },
        ]
      : [],
  };
}

/**
 * Brings a claimed (`provisioning`) task to `running`: workspace, then the move to running with its
 * token (one guarded write), then the session. A task that ended or was asked to stop while its
 * workspace was being made never moves, never gets a token, and its workspace is released; any
 * failure fails the task with the reason and releases the workspace too.
 */
export async function startClaimedTask(db: Db, taskId: string, webUrl: string): Promise<void> {
  try {
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
    if (!task?.nodeId || task.status !== "provisioning") return;
    const [project, node, session] = await Promise.all([
      db.query.projects.findFirst({ where: eq(projects.id, task.projectId) }),
      db.query.nodes.findFirst({ where: eq(nodes.id, task.nodeId) }),
      db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, task.id) }),
    ]);
    const target = node && daemonTargetOf(db, node);
    if (!project || !node || !target || !session)
      throw new SamError("internal", "The task's project, node or session is gone");
    const harness = task.harness ?? project.harness;
    if (!isHarnessKind(harness)) throw new SamError("invalid_input", `Unknown harness ${JSON.stringify(harness)}`);
    if (harness === "acp" && !project.agentCommand) {
      throw new SamError("invalid_input", "The custom ACP agent needs its command in the project's settings");
    }
    const model = task.model ?? project.model;
    const credentials = await modelCredentials(db, project.id, model);

    const workspaceId = newId();
    const { branch, baseBranch, mergeBranches } = await workspaceStart(db, task, project.defaultBranch);
    // Recorded before it is asked for, so it is released even if the web app forgets the request.
    await db
      .insert(workspaces)
      .values({ id: workspaceId, nodeId: node.id, taskId: task.id, path: "", branch, status: "creating" });
    const workspace = await daemonClient
      .createWorkspace(target, {
        workspaceId,
        taskId: task.id,
        repo: project.repo,
        baseBranch,
        branch,
        network: project.network,
        mergeBranches,
      })
      .catch((err: unknown) => {
        // A conflict between dependencies is the task's failure, in the daemon's words (tasks, paths).
        if (SamError.is(err) && err.details?.daemonCode === "merge_conflict") {
          throw new SamError("conflict", `Its dependencies' work does not merge: ${err.details.daemonMessage}`);
        }
        throw err;
      });
    await db.update(workspaces).set({ path: workspace.path, status: "ready" }).where(eq(workspaces.id, workspaceId));

    const taskToken = await startTaskWithToken(db, task.id, { workspaceId, branch, baseBranch });
    if (taskToken === undefined) {
      // It ended (or its stop ended it) while the workspace was being made.
      await releaseEndedWorkspaces(db, task.id);
      return;
    }
    await daemonClient.startSession(target, {
      sessionId: session.id,
      taskId: task.id,
      workspaceId,
      mode: task.mode,
      // The web app decides at each turn's end whether the task waits for its subtasks or finishes.
      ...(task.mode === "task" ? { taskTurnEnd: "wait" as const } : {}),
      harness,
      ...(harness === "acp" && project.agentCommand ? { agentCommand: project.agentCommand } : {}),
      permissionPolicy: project.permissionPolicy,
      model,
      ...credentials,
      title: task.title,
      prompt: promptFor(harness, task.description),
      // A joined or cloud node's agents reach the web app where the node itself does.
      mcpUrl: `${node.provider !== "local" && node.webUrl ? node.webUrl : webUrl}/api/mcp`,
      network: project.network,
      taskToken,
    });
  } catch (err) {
    const reason = SamError.is(err) ? err.message : `could not start: ${(err as Error).message}`;
    await transitionTask(db, {
      taskId,
      from: ["provisioning", "running"],
      to: "failed",
      actor: { kind: "system" },
      reason,
      set: { failureReason: reason },
    });
    await releaseEndedWorkspaces(db, taskId);
  }
}
