import type { Locator, Page } from "playwright-core";

/** The card of a question the agent asked, in the chat or on the task page, as a person answers it. */
export class HumanInputCardUi {
  constructor(private readonly page: Page) {}

  /** The card of the question whose text contains `question`. */
  card(question: string): Locator {
    return this.page.getByTestId("human-input-card").filter({ hasText: question });
  }

  /** The answers offered as buttons, in order. */
  async options(question: string): Promise<string[]> {
    const card = this.card(question);
    await card.waitFor();
    return card.getByTestId("human-input-option").allTextContents();
  }

  /** Clicks the offered answer `option`. */
  async choose(question: string, option: string): Promise<void> {
    await this.card(question).getByRole("button", { name: option, exact: true }).click();
  }

  /** Writes a free answer and sends it. */
  async write(question: string, answer: string): Promise<void> {
    const card = this.card(question);
    await card.getByRole("textbox").fill(answer);
    await card.getByRole("button", { name: "Send answer" }).click();
  }

  /** Waits until the card shows the answer. */
  async waitForAnswer(question: string, answer: string, timeout = 30_000): Promise<void> {
    await this.card(question)
      .and(this.page.locator('[data-state="answered"]'))
      .getByTestId("human-input-answer")
      .filter({ hasText: answer })
      .waitFor({ timeout });
  }
}
