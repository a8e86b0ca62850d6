import type { Locator, Page } from "playwright-core";

/** The Secrets section of a project's settings page. */
export class SecretsPanel {
  constructor(private readonly page: Page) {}

  form(): Locator {
    return this.page.getByRole("form", { name: "Add secret" });
  }

  async add(name: string, value: string, kind?: string): Promise<void> {
    await this.form().getByLabel("Secret name").fill(name);
    if (kind) await this.form().getByLabel("Secret kind").selectOption(kind);
    await this.form().getByLabel("Secret value").fill(value);
    await this.form().getByRole("button", { name: "Save secret" }).click();
  }

  async values(): Promise<{ name: string; kind: string; value: string }> {
    return {
      name: await this.form().getByLabel("Secret name").inputValue(),
      kind: await this.form().getByLabel("Secret kind").inputValue(),
      value: await this.form().getByLabel("Secret value").inputValue(),
    };
  }

  /** The message under the name field, once shown. */
  async nameError(): Promise<string> {
    const error = this.page.locator("#secret-name-error");
    await error.waitFor();
    return (await error.textContent()) ?? "";
  }

  alerts(): Promise<string[]> {
    return this.form().getByRole("alert").allTextContents();
  }

  masked(): Locator {
    return this.page.getByTestId("secret-masked");
  }
}
