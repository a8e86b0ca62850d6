import { describe, expect, test } from "vitest";
import { type ControlledTask, controlStates } from "@/components/tasks/task-controls-state";

const base: ControlledTask = {
  id: "t1",
  status: "running",
  mode: "task",
  parentId: null,
  stopReason: null,
  retriedAsId: null,
};
const at = (over: Partial<ControlledTask>) => controlStates({ ...base, ...over });

describe("which task controls the page offers", () => {
  test("a running task can be stopped and messaged, not retried or removed, each refusal with its reason", () => {
    const states = at({});
    expect(states.stopLabel).toBe("Stop");
    expect(states.stop.enabled).toBe(true);
    expect(states.message.enabled).toBe(true);
    expect(states.retry).toEqual({ enabled: false, reason: expect.stringMatching(/only a failed task/i) });
    expect(states.remove).toEqual({ enabled: false, reason: expect.stringMatching(/only a queued task/i) });
  });

  test("a queued task can be removed or stopped", () => {
    const states = at({ status: "queued" });
    expect(states.remove.enabled).toBe(true);
    expect(states.stop.enabled).toBe(true);
  });

  test("a failed task can be retried once, and nothing else", () => {
    const states = at({ status: "failed" });
    expect(states.retry.enabled).toBe(true);
    expect(states.stop.enabled).toBe(false);
    expect(states.remove.enabled).toBe(false);
    expect(states.message.enabled).toBe(false);
    expect(at({ status: "failed", retriedAsId: "t2" }).retry).toEqual({
      enabled: false,
      reason: "This task was already retried.",
    });
  });

  test("a cancelled or completed task cannot be retried", () => {
    for (const status of ["cancelled", "completed"] as const) {
      expect(at({ status }).retry).toEqual({ enabled: false, reason: expect.stringContaining(status) });
    }
  });

  test("a talking conversation is ended rather than stopped; a queued one is stopped", () => {
    expect(at({ mode: "conversation", status: "awaiting_followup" }).stopLabel).toBe("End conversation");
    expect(at({ mode: "conversation", status: "running" }).stopLabel).toBe("End conversation");
    expect(at({ mode: "conversation", status: "queued" }).stopLabel).toBe("Stop");
  });

  test("while a stop is under way the task is neither stopped again, removed nor messaged", () => {
    const states = at({ status: "queued", stopReason: "stopped by user: enough" });
    expect(states.stop).toEqual({ enabled: false, reason: expect.stringContaining("stopped by user: enough") });
    expect(states.remove.enabled).toBe(false);
    expect(states.message.enabled).toBe(false);
  });
});
