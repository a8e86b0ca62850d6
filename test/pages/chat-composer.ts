import type { Locator, Page } from "playwright-core";

/** The message box of the project chat. */
export class ChatComposer {
  constructor(private readonly page: Page) {}

  box(): Locator {
    return this.page.getByLabel("Message", { exact: true });
  }

  sendButton(): Locator {
    return this.page.getByRole("button", { name: "Send" });
  }

  /** The length counter shown near the limit. */
  counter(): Locator {
    return this.page.getByTestId("composer-counter");
  }

  async type(text: string): Promise<void> {
    await this.box().fill(text);
  }

  async pressEnter(): Promise<void> {
    await this.box().press("Enter");
  }
}
