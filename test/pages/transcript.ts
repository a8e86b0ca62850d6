import type { Locator, Page } from "playwright-core";

/** Where a message to the agent is on its way, as the page marks it. */
export type Delivery = "pending" | "delivered" | "undelivered";

/** The CSS that matches a message in that state (pending: waiting in the inbox or queued behind a turn). */
export function deliverySelector(delivery: Delivery): string {
  return delivery === "pending"
    ? ':is([data-delivery="waiting"], [data-delivery="queued"])'
    : `[data-delivery="${delivery}"]`;
}

/** A session's transcript in the chat: messages to the agent (marked with sender and delivery) and its replies. */
export class Transcript {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
    private readonly projectId: string,
  ) {}

  /** Opens the session and waits until its transcript is there. */
  async open(sessionId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${this.projectId}/sessions/${sessionId}`);
    await this.list.waitFor();
  }

  get list(): Locator {
    return this.page.getByTestId("chat-messages");
  }

  /** The messages to the agent that contain `text`, from anyone. */
  messagesTo(text: string | RegExp): Locator {
    return this.list.locator('[data-testid="chat-message"][data-role="user"]').filter({ hasText: text });
  }

  /** The message containing `text` as sent by `sender` ("You", "Parent task …", "SAM") in that state. */
  message(text: string | RegExp, sender: string, delivery: Delivery): Locator {
    return this.list
      .locator(`[data-testid="chat-message"][data-role="user"]${deliverySelector(delivery)}`)
      .filter({ hasText: text })
      .filter({ has: this.page.getByTestId("message-sender").getByText(sender, { exact: true }) });
  }

  /** Waits (live, without reloading) until the transcript shows that message. */
  async waitForMessage(text: string | RegExp, sender: string, delivery: Delivery, timeout = 60_000): Promise<void> {
    await this.message(text, sender, delivery).waitFor({ timeout });
  }

  /** What the agent said, in its replies. */
  agentSays(text: string): Locator {
    return this.list.locator('[data-testid="chat-message"][data-role="assistant"]').getByText(text);
  }

  /** The folded sam-script blocks' toggles ("Script: 4 steps"). */
  /** The agent's plans shown as checklists (one per reply: each update replaces the last). */
  get plans(): Locator {
    return this.list.getByTestId("agent-plan");
  }

  /** The small token figures under the replies. */
  get replyUsage(): Locator {
    return this.list.getByTestId("reply-usage");
  }

  get scriptToggles(): Locator {
    return this.list.getByTestId("script-block").getByRole("button");
  }

  /** The "Show more" / "Show less" toggles of long messages. */
  get longMessageToggles(): Locator {
    return this.list.getByTestId("long-message-toggle");
  }
}
