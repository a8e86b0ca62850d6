import type { Locator, Page } from "playwright-core";

/** The chat's header: the session's title, status, branch and subtask progress, kept live. */
export class SessionHeader {
  constructor(private readonly page: Page) {}

  /** "2/3 subtasks completed", as the header says it. */
  get subtasks(): Locator {
    return this.page.getByTestId("session-subtasks");
  }

  /** Waits until the header says that `done` of `total` subtasks are completed. */
  async waitForSubtasks(done: number, total: number, timeout = 90_000): Promise<void> {
    await this.page
      .getByTestId("session-subtasks")
      .getByText(`${done}/${total} subtasks completed`, { exact: true })
      .waitFor({ timeout });
  }

  /** "Waiting on N subtasks", while the task waits for them. */
  get waitingOn(): Locator {
    return this.page.getByTestId("session-status").locator("xpath=..").getByTestId("waiting-on");
  }

  get branch(): Locator {
    return this.page.getByTestId("session-branch");
  }

  /** The status pill's status. */
  async status(): Promise<string | null> {
    return this.page.getByTestId("session-status").locator("[data-status]").getAttribute("data-status");
  }
}
