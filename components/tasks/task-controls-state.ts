import type { TaskMode, TaskStatus } from "@/db/schema";

/** What the controls need to know of a task. */
export interface ControlledTask {
  id: string;
  status: TaskStatus;
  mode: TaskMode;
  parentId: string | null;
  /** The reason of a stop under way, if one is. */
  stopReason: string | null;
  /** The task that replaced this one, if it was retried. */
  retriedAsId: string | null;
}

/** One control: usable, or why not. */
export type ControlState = { enabled: true } | { enabled: false; reason: string };

export interface ControlStates {
  /** "End conversation" for a conversation that is talking; "Stop" otherwise. */
  stopLabel: "Stop" | "End conversation";
  stop: ControlState;
  retry: ControlState;
  remove: ControlState;
  message: ControlState;
}

const ENDED: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);
const ok: ControlState = { enabled: true };
const no = (reason: string): ControlState => ({ enabled: false, reason });

/**
 * Which controls apply to a task now, each with the reason it does not. This mirrors the
 * orchestrator's rules so the page offers what will work; the orchestrator still decides.
 */
export function controlStates(task: ControlledTask): ControlStates {
  const ended = ENDED.has(task.status);
  const talking = task.mode === "conversation" && (task.status === "running" || task.status === "awaiting_followup");
  const stop = ended
    ? no(`The task has ended (${task.status}); there is nothing to stop.`)
    : task.stopReason
      ? no(`A stop is under way (${task.stopReason}).`)
      : ok;
  const retry =
    task.status === "failed"
      ? task.retriedAsId
        ? no("This task was already retried.")
        : ok
      : ended
        ? no(`Only a failed task can be retried; this one is ${task.status}.`)
        : no("Only a failed task can be retried; stop it first if it went wrong.");
  const remove =
    task.status === "queued" && !task.stopReason
      ? ok
      : no(
          ended
            ? `The task has ended (${task.status}).`
            : "Only a queued task that has not started can be removed; stop it instead.",
        );
  const message = ended
    ? no(`The task has ended (${task.status}); it takes no more messages.`)
    : task.stopReason
      ? no("The task is being stopped; it takes no more messages.")
      : ok;
  return { stopLabel: talking ? "End conversation" : "Stop", stop, retry, remove, message };
}
