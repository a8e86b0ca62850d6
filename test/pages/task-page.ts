import type { Locator, Page } from "playwright-core";

/** A task's page: its facts, its controls and the agent's activity, kept live by the task's stream. */
export class TaskPage {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
    private readonly projectId: string,
  ) {}

  /** Opens the task and waits until the page is live (or, for an ended task, finished). */
  async open(taskId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${this.projectId}/tasks/${taskId}`);
    await this.page.locator('[data-testid="stream-state"]:is([data-state="live"], [data-state="ended"])').waitFor();
  }

  /** Waits (live, without reloading) until the page shows the task as `status`. */
  async waitForStatus(status: string, timeout = 60_000): Promise<void> {
    await this.page.locator(`[data-testid="task-status"] [data-status="${status}"]`).waitFor({ timeout });
  }

  get controls(): Locator {
    return this.page.getByTestId("task-controls");
  }

  /** The names of the buttons the controls offer now (an open confirmation form's included). */
  async offeredControls(): Promise<string[]> {
    return (await this.controls.getByRole("button").allTextContents()).map((name) => name.trim());
  }

  control(name: string): Locator {
    return this.controls.getByRole("button", { name, exact: true });
  }

  /** Why a failed task offers no Retry, as the controls say it. */
  get retryUnavailable(): Locator {
    return this.page.getByTestId("retry-unavailable");
  }

  /** Opens the Retry form and types a note for the new attempt. */
  async startRetry(note: string): Promise<void> {
    await this.control("Retry").click();
    await this.retryNote.fill(note);
  }

  get retryNote(): Locator {
    return this.page.getByRole("form", { name: "Retry" }).getByLabel("Note for the new attempt (optional)");
  }

  /** The refusal the Retry form shows. */
  get retryRefusal(): Locator {
    return this.page.getByRole("form", { name: "Retry" }).getByRole("alert");
  }

  async confirmRetry(): Promise<void> {
    await this.page.getByRole("button", { name: "Retry now" }).click();
  }

  async endConversation(): Promise<void> {
    await this.control("End conversation").click();
    await this.page.getByRole("button", { name: "End it" }).click();
  }

  /** The explanation an open confirmation form gives. */
  confirmation(name: string): Locator {
    return this.page.getByRole("form", { name });
  }

  /** Why a queued task waits for a node, when its project requires labels no live node has. */
  get placementWait(): Locator {
    return this.page.getByTestId("task-placement-wait");
  }

  get parentLink(): Locator {
    return this.page.getByTestId("task-parent").getByRole("link");
  }

  get retryOfLink(): Locator {
    return this.page.getByTestId("task-retry-of").getByRole("link");
  }

  get retriedAsLink(): Locator {
    return this.page.getByTestId("task-retried-as").getByRole("link");
  }

  /** The task's branch, shown for a task and never for a conversation. */
  get branch(): Locator {
    return this.page.getByTestId("task-branch");
  }

  get timeline(): Locator {
    return this.page.getByTestId("task-timeline");
  }

  /** The task's own usage: "12.3k tokens · $0.04", or "… · no price for <model>". */
  get ownUsage(): Locator {
    return this.page.getByTestId("task-usage-own");
  }

  /** The usage of the task and all its subtasks. */
  get subtreeUsage(): Locator {
    return this.page.getByTestId("task-usage-subtree");
  }

  get activity(): Locator {
    return this.page.getByTestId("task-event-log");
  }

  /** The agent's plans in the activity: only the latest is shown. */
  get plans(): Locator {
    return this.activity.getByTestId("agent-plan");
  }

  /** The agent's events as the activity lists them, oldest first: type and, for a message, its source. */
  async activityTypes(): Promise<{ type: string; source?: string }[]> {
    return this.activity.getByTestId("agent-event").evaluateAll((items) =>
      items.map((item) => {
        const source = item.querySelector("[data-source]")?.getAttribute("data-source") ?? undefined;
        return { type: item.getAttribute("data-type") ?? "", ...(source ? { source } : {}) };
      }),
    );
  }
}
