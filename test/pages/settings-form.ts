import type { Locator, Page } from "playwright-core";

/** The "Limits and agent" form of a project's settings page. */
export class SettingsForm {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  form(): Locator {
    return this.page.getByRole("form", { name: "Project settings" });
  }

  async open(projectId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${projectId}/settings`);
  }

  /** Fills fields by their label's start ("Max depth", "Model"); selects take an option value. */
  async fill(fields: Record<string, string>): Promise<void> {
    for (const [label, value] of Object.entries(fields)) {
      const field = this.field(label);
      if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
      else await field.fill(value);
    }
  }

  async save(): Promise<void> {
    await this.form().getByRole("button", { name: "Save settings" }).click();
  }

  field(label: string): Locator {
    return this.form().getByLabel(new RegExp(`^${label}`));
  }

  async values(labels: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const label of labels) out[label] = await this.field(label).inputValue();
    return out;
  }

  /** The message under the field with this id (maxDepth, model…), once shown. */
  async error(name: string): Promise<string> {
    const error = this.page.locator(`#${name}-error`);
    await error.waitFor();
    return (await error.textContent()) ?? "";
  }

  alerts(): Promise<string[]> {
    return this.form().getByRole("alert").allTextContents();
  }

  /** Picks the model provider by its value (scripted, anthropic, openai, openai-compatible). */
  async chooseProvider(provider: string): Promise<void> {
    await this.field("Provider").selectOption(provider);
  }

  /** Types an OpenAI-compatible server's base URL and leaves the field, which reloads the model list. */
  async setBaseUrl(url: string): Promise<void> {
    await this.field("Base URL").fill(url);
    await this.field("Base URL").press("Tab");
  }

  /** The model ids the live list offers, once it has loaded (the first option is the prompt to choose). */
  async modelOptions(): Promise<string[]> {
    const select = this.form().locator("select#modelId");
    await select.waitFor();
    return (await select.locator("option").allTextContents()).slice(1);
  }

  /** Why the model list could not be loaded, once said. */
  async modelListProblem(containing: string): Promise<string> {
    const problem = this.page.getByTestId("model-list-problem").filter({ hasText: containing });
    await problem.waitFor();
    return (await problem.textContent()) ?? "";
  }

  /** Clicks Test connection and returns the result it shows, once it contains `expecting`. */
  async testConnection(expecting: string): Promise<string> {
    await this.form().getByRole("button", { name: "Test connection" }).click();
    const result = this.page.getByTestId("connection-result").filter({ hasText: expecting });
    await result.waitFor();
    return (await result.textContent()) ?? "";
  }
}
