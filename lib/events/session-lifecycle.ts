import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, tasks } from "@/db/schema";
import { NO_CHANGES_REASON } from "../ideas/task-outcome";
import { recountPullRequest } from "../pulls/figures";
import { openPullRequestOnGitHub } from "../pulls/github/sync";
import { recordPullRequest } from "../pulls/open";
import { releaseEndedWorkspaces } from "../scheduler/release-workspaces";
import { transitionTask } from "../tasks/transition";

/**
 * Moves a task to where its session's latest lifecycle event says it is. Every move is a guarded
 * transition, so applying the same event again is harmless.
 */
export async function applySessionLifecycle(db: Db, taskId: string, event: AgentEventPayload): Promise<void> {
  const actor = { kind: "node" as const };
  switch (event.type) {
    case "session_started":
    case "user_message":
      await transitionTask(db, { taskId, from: ["awaiting_followup"], to: "running", actor });
      await db
        .update(chatSessions)
        .set({ state: "active", updatedAt: new Date() })
        .where(eq(chatSessions.taskId, taskId));
      return;
    case "turn_ended": {
      const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { mode: true } });
      if (task?.mode !== "conversation") return;
      await transitionTask(db, { taskId, from: ["running"], to: "awaiting_followup", actor });
      await db
        .update(chatSessions)
        .set({ state: "awaiting_followup", updatedAt: new Date() })
        .where(eq(chatSessions.taskId, taskId));
      return;
    }
    case "session_finished": {
      // A task-mode task that completes without a branch changed nothing: the daemon pushed none,
      // so the task keeps none (a conversation never has one to push).
      const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { mode: true } });
      const unchanged = event.outcome === "completed" && !event.branch && task?.mode === "task";
      const moved = await transitionTask(db, {
        taskId,
        from: ["provisioning", "running", "awaiting_followup"],
        to: event.outcome,
        actor,
        reason: event.reason ?? (unchanged ? NO_CHANGES_REASON : undefined),
        set: {
          ...(event.branch ? { branch: event.branch } : unchanged ? { branch: null } : {}),
          ...(event.outcome === "failed" ? { failureReason: event.reason ?? "the session failed" } : {}),
        },
      });
      await db
        .update(chatSessions)
        .set({ state: "ended", updatedAt: new Date() })
        .where(eq(chatSessions.taskId, taskId));
      // The session is over; the node's place is freed without holding up the daemon's request (what
      // fails here is retried by the scheduler's pass).
      void releaseEndedWorkspaces(db, taskId).catch(() => {});
      // A task that changed something proposes it: its PR is recorded now, counted (git) meanwhile.
      if (moved && event.outcome === "completed" && event.branch) {
        const pr = await recordPullRequest(db, taskId);
        // Counted, then opened on GitHub when the project is there (a failure is kept on the PR and
        // retried by the scheduler's sync).
        if (pr)
          void recountPullRequest(db, pr)
            .then(() => openPullRequestOnGitHub(db, pr))
            .catch((err: unknown) => console.error(`sam: counting PR #${pr.number}: ${(err as Error).message}`));
      }
      return;
    }
    default:
      return;
  }
}
