import fs from "node:fs";
import path from "node:path";
import type { HarnessOptions, HarnessSession, StopReason } from "../src/harness/types.ts";
import type { Workspace } from "../src/workspaces.ts";
import { gitIn } from "./git-repo.ts";

/** A harness the test drives by hand: each prompt waits until the test ends the turn. */
export class FakeHarness implements HarnessSession {
  prompts: string[] = [];
  closed = false;
  cancels = 0;
  options!: HarnessOptions;
  private current: ((reason: StopReason) => void) | undefined;
  private prompted: (() => void)[] = [];

  prompt(text: string): Promise<StopReason> {
    this.prompts.push(text);
    for (const wake of this.prompted.splice(0)) wake();
    return new Promise((resolve) => {
      this.current = resolve;
    });
  }

  async cancel(): Promise<void> {
    this.cancels += 1;
    this.endTurn("cancelled");
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  get turnRunning(): boolean {
    return this.current !== undefined;
  }

  endTurn(reason: StopReason): void {
    const resolve = this.current;
    this.current = undefined;
    resolve?.(reason);
  }

  /** Resolves when the agent has been prompted `count` times. */
  async promptNumber(count: number): Promise<void> {
    while (this.prompts.length < count) await new Promise<void>((resolve) => this.prompted.push(resolve));
  }
}

/** The daemon's record of a workspace cloned by the test into `dir` from `repo`, on `branch`, from its HEAD now. */
export function testWorkspace(dir: string, repo: string, branch: string, scratch: string): Workspace {
  return {
    workspaceId: "ws-1",
    taskId: "task-1",
    path: dir,
    branch,
    baseCommit: gitIn(dir, "rev-parse", "HEAD"),
    repo,
    pristineConfig: fs.readFileSync(path.join(dir, ".git", "config"), "utf8"),
    sandbox: { workspace: dir, home: scratch, tmp: scratch, run: scratch },
  };
}
