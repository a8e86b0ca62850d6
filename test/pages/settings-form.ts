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
}
