import type { AgentEventPayload } from "@sam/agent-daemon/contract";
import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, tasks } from "@/db/schema";
import { NO_CHANGES_REASON } from "../ideas/task-outcome";
import { afterTurn } from "../orchestrator/after-turn";
import { wakeParent } from "../orchestrator/waits";
import { recountPullRequest } from "../pulls/figures";
import { openPullRequestOnGitHub } from "../pulls/github/sync";
import { recordPullRequest } from "../pulls/open";
import { releaseEndedWorkspaces } from "../scheduler/release-workspaces";
import { LIVE_SESSION_STATUSES, ON_NODE_STATUSES } from "../tasks/statuses";
import { transitionTask } from "../tasks/transition";

/** A question put to a person stays the task's state until it is answered (lib/tasks/human-input.ts). */
const NO_OPEN_QUESTION = sql`NOT EXISTS (
  SELECT 1 FROM human_requests h WHERE h.task_id = tasks.id AND h.answered_at IS NULL)`;

function setSessionState(db: Db, taskId: string, state: "active" | "awaiting_followup" | "ended") {
  return db.update(chatSessions).set({ state, updatedAt: new Date() }).where(eq(chatSessions.taskId, taskId));
}

/**
 * Moves a task to where its session's latest lifecycle event says it is. Every move is a guarded
 * transition and every decision is taken again from the database, so applying the same event again
 * is harmless (ingest applies the latest lifecycle event for each batch of a session).
 */
export async function applySessionLifecycle(db: Db, taskId: string, event: AgentEventPayload): Promise<void> {
  const actor = { kind: "node" as const };
  switch (event.type) {
    case "session_started":
    case "user_message":
      // A message starts a turn: a waiting task works again. The event is applied again with every
      // later batch of its turn, so a question asked during the turn keeps the task awaiting input.
      await transitionTask(db, {
        taskId,
        from: LIVE_SESSION_STATUSES.filter((s) => s !== "running"),
        to: "running",
        actor,
        guard: NO_OPEN_QUESTION,
      });
      await setSessionState(db, taskId, "active");
      return;
    case "turn_ended": {
      const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { mode: true } });
      if (task?.mode === "conversation") {
        await transitionTask(db, { taskId, from: ["running"], to: "awaiting_followup", actor });
        await setSessionState(db, taskId, "awaiting_followup");
        return;
      }
      // A task's session idles after a normal turn end: the web app decides what follows (a
      // cancelled turn waits for a message, as it always did).
      if (task?.mode !== "task" || event.stopReason !== "end_turn") return;
      await setSessionState(db, taskId, "awaiting_followup");
      await afterTurn(db, taskId);
      return;
    }
    case "session_finished": {
      // A task-mode task that completes without a branch changed nothing: the daemon pushed none,
      // so the task keeps none (a conversation never has one to push).
      const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId), columns: { mode: true } });
      const unchanged = event.outcome === "completed" && !event.branch && task?.mode === "task";
      const moved = await transitionTask(db, {
        taskId,
        from: ON_NODE_STATUSES,
        to: event.outcome,
        actor,
        reason: event.reason ?? (unchanged ? NO_CHANGES_REASON : undefined),
        set: {
          ...(event.branch ? { branch: event.branch } : unchanged ? { branch: null } : {}),
          ...(event.outcome === "failed" ? { failureReason: event.reason ?? "the session failed" } : {}),
        },
      });
      await setSessionState(db, taskId, "ended");
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
      // Its parent hears of it now, with its PR (the scheduler's pass retries what fails here).
      if (moved)
        await wakeParent(db, taskId).catch((err: unknown) =>
          console.error(`sam: waking the parent of ${taskId}: ${(err as Error).message}`),
        );
      return;
    }
    default:
      return;
  }
}
