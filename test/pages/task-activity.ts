import type { Locator, Page } from "playwright-core";
import { type Delivery, deliverySelector } from "./transcript";

/** The task page's activity: the agent's events, and the messages to the agent with sender and delivery. */
export class TaskActivity {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
    private readonly projectId: string,
  ) {}

  /** Opens the task's page and waits until it is live (or, for an ended task, finished). */
  async open(taskId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${this.projectId}/tasks/${taskId}`);
    await this.page.locator('[data-testid="stream-state"]:is([data-state="live"], [data-state="ended"])').waitFor();
  }

  get log(): Locator {
    return this.page.getByTestId("task-event-log");
  }

  /** The message containing `text` as sent by `sender` in that state (received, or still on its way). */
  message(text: string | RegExp, sender: string, delivery: Delivery): Locator {
    return this.log
      .locator(
        `:is([data-testid="agent-event"][data-type="user_message"], [data-testid="pending-message"])${deliverySelector(delivery)}`,
      )
      .filter({ hasText: text })
      .filter({ has: this.page.getByTestId("message-sender").getByText(sender, { exact: true }) });
  }

  async waitForMessage(text: string | RegExp, sender: string, delivery: Delivery, timeout = 60_000): Promise<void> {
    await this.message(text, sender, delivery).waitFor({ timeout });
  }

  /** What the agent said. */
  agentSays(text: string): Locator {
    return this.log.locator('[data-type="agent_text"]').getByText(text);
  }
}
