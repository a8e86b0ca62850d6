import type { TaskMode, TaskStatus } from "@/db/schema";

/** What the controls need to know of a task. */
export interface ControlledTask {
  id: string;
  status: TaskStatus;
  mode: TaskMode;
  /** The parent task, if this one was dispatched: a child is replaced only while its parent lives. */
  parent: { status: TaskStatus } | null;
  /** The reason of a stop under way, if one is. */
  stopReason: string | null;
  /** The task that replaced this one, if it was retried. */
  retriedAsId: string | null;
  /** The lineage was retried as often as the project allows. */
  retryLimitReached: boolean;
}

/** The controls a task page can offer. */
export type Control = "stop" | "end" | "retry" | "remove" | "message";

/** One control: offered, or why not. */
export type ControlState = { enabled: true } | { enabled: false; reason: string };

export type ControlStates = Record<Control, ControlState>;

/**
 * The controls that destroy something (a running agent's turn, a queued task's place) and are
 * styled as such; ending a conversation loses nothing, since a conversation never saves or pushes.
 */
export const DESTRUCTIVE: Readonly<Record<Control, boolean>> = {
  stop: true,
  end: false,
  retry: false,
  remove: true,
  message: false,
};

const ENDED: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);
const ok: ControlState = { enabled: true };
const no = (reason: string): ControlState => ({ enabled: false, reason });

/**
 * Which controls apply to a task now, each with the reason it does not. This mirrors the
 * orchestrator's rules (stop.ts, retry.ts, remove.ts, send-message.ts) so the page offers only what
 * will work; the orchestrator still decides.
 */
export function controlStates(task: ControlledTask): ControlStates {
  const ended = ENDED.has(task.status);
  const live = ended
    ? no(`The task has ended (${task.status}).`)
    : task.stopReason
      ? no(`A stop is under way (${task.stopReason}).`)
      : ok;
  const conversation = task.mode === "conversation";
  return {
    // A conversation is ended rather than stopped: ending it is not a failure.
    stop: conversation ? no("A conversation is ended, not stopped.") : live,
    end: conversation ? live : no("Only a conversation is ended; stop a task instead."),
    retry: retryState(task),
    remove:
      task.status === "queued" && !task.stopReason
        ? ok
        : no(
            ended ? `The task has ended (${task.status}).` : "Only a queued task that has not started can be removed.",
          ),
    message: ended
      ? no(`The task has ended (${task.status}); it takes no more messages.`)
      : task.stopReason
        ? no("The task is being stopped; it takes no more messages.")
        : ok,
  };
}

/** retry_subtask's rules: a failed task, replaced once, within the lineage's limit, under a live parent. */
function retryState(task: ControlledTask): ControlState {
  if (task.status !== "failed")
    return no(`Only a failed task can be retried; this one is ${task.status.replace("_", " ")}.`);
  if (task.retriedAsId) return no("This task was already retried.");
  if (task.parent && ENDED.has(task.parent.status)) {
    return no(`Its parent task has ended (${task.parent.status}), so no new attempt can be dispatched under it.`);
  }
  if (task.retryLimitReached) return no("The project's retry limit for this task is reached.");
  return ok;
}

/**
 * Why a failed task offers no Retry, when that is not plain from the page: the user looks for the
 * control there. Other missing controls explain themselves by the task's status.
 */
export function missingRetryNote(task: ControlledTask, states: ControlStates): string | undefined {
  if (task.status !== "failed" || task.retriedAsId || states.retry.enabled) return undefined;
  return states.retry.reason;
}
