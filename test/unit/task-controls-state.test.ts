import { describe, expect, test } from "vitest";
import {
  type Control,
  type ControlledTask,
  controlStates,
  DESTRUCTIVE,
  missingRetryNote,
} from "@/components/tasks/task-controls-state";
import type { TaskStatus } from "@/db/schema";

const base: ControlledTask = {
  id: "t1",
  status: "running",
  mode: "task",
  parent: null,
  stopReason: null,
  retriedAsId: null,
  retryLimitReached: false,
};
const at = (over: Partial<ControlledTask>) => controlStates({ ...base, ...over });
/** The controls offered, in the table's order. */
const offered = (over: Partial<ControlledTask>): Control[] =>
  Object.entries(at(over))
    .filter(([, state]) => state.enabled)
    .map(([control]) => control as Control);

describe("which task controls the page offers", () => {
  test("a task is offered Stop only while it is queued, starting, running or waiting; Remove only while queued", () => {
    const table: [TaskStatus, Control[]][] = [
      ["queued", ["stop", "remove", "message"]],
      ["provisioning", ["stop", "message"]],
      ["running", ["stop", "message"]],
      ["awaiting_followup", ["stop", "message"]],
      ["completed", []],
      ["failed", ["retry"]],
      ["cancelled", []],
    ];
    for (const [status, controls] of table) expect(offered({ status }), status).toEqual(controls);
  });

  test("a conversation is ended, never stopped, from queued to waiting; an ended one offers nothing", () => {
    const table: [TaskStatus, Control[]][] = [
      ["queued", ["end", "remove", "message"]],
      ["running", ["end", "message"]],
      ["awaiting_followup", ["end", "message"]],
      ["completed", []],
    ];
    for (const [status, controls] of table) {
      expect(offered({ mode: "conversation", status }), status).toEqual(controls);
    }
    expect(at({ mode: "conversation" }).stop).toEqual({
      enabled: false,
      reason: expect.stringMatching(/ended, not stopped/),
    });
  });

  test("only Stop and Remove are styled as destroying something; Retry and End conversation are not", () => {
    expect(DESTRUCTIVE).toEqual({ stop: true, end: false, retry: false, remove: true, message: false });
  });

  test("a failed task is retried once: afterwards Retry is gone and the page links the next attempt instead", () => {
    expect(at({ status: "failed" }).retry.enabled).toBe(true);
    const retried = { status: "failed" as const, retriedAsId: "t2" };
    expect(at(retried).retry).toEqual({ enabled: false, reason: "This task was already retried." });
    // The link to the replacement says it all: no note on top.
    expect(missingRetryNote({ ...base, ...retried }, at(retried))).toBeUndefined();
  });

  test("a failed subtask whose parent has ended offers no Retry, and the page says why", () => {
    for (const parentStatus of ["completed", "failed", "cancelled"] as const) {
      const task = { ...base, status: "failed" as const, parent: { status: parentStatus } };
      const states = controlStates(task);
      expect(states.retry).toEqual({ enabled: false, reason: expect.stringContaining(`has ended (${parentStatus})`) });
      expect(missingRetryNote(task, states)).toMatch(/parent task has ended/);
    }
    for (const parentStatus of ["running", "awaiting_followup"] as const) {
      expect(at({ status: "failed", parent: { status: parentStatus } }).retry.enabled).toBe(true);
    }
  });

  test("a failed task whose lineage used up the project's retries offers no Retry, and the page says why", () => {
    const task = { ...base, status: "failed" as const, retryLimitReached: true };
    const states = controlStates(task);
    expect(states.retry).toEqual({ enabled: false, reason: expect.stringMatching(/retry limit/) });
    expect(missingRetryNote(task, states)).toMatch(/retry limit/);
  });

  test("a task that is not failed explains no missing Retry: its status says enough", () => {
    for (const status of ["running", "completed", "cancelled"] as const) {
      expect(missingRetryNote({ ...base, status }, at({ status }))).toBeUndefined();
    }
  });

  test("while a stop is under way the task is neither stopped again, ended, removed nor messaged", () => {
    for (const mode of ["task", "conversation"] as const) {
      const states = at({ mode, status: "queued", stopReason: "stopped by user: enough" });
      expect(offered({ mode, status: "queued", stopReason: "stopped by user: enough" })).toEqual([]);
      expect(states[mode === "task" ? "stop" : "end"]).toEqual({
        enabled: false,
        reason: expect.stringContaining("stopped by user: enough"),
      });
    }
  });
});
