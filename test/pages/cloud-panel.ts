import type { Locator, Page } from "playwright-core";

/** The cloud VM settings: on /admin/cloud (the instance's) or in a project's settings. */
export class CloudPanel {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async openInstance(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/admin/cloud`);
    await this.page.getByRole("heading", { name: "Cloud VMs" }).waitFor();
  }

  async openProject(projectId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${projectId}/settings`);
    await this.form.waitFor();
  }

  get form(): Locator {
    return this.page.getByRole("form", { name: "Cloud settings" });
  }

  /** Types into fields by their labels (as the page words them). */
  async fill(fields: Record<string, string>): Promise<void> {
    for (const [label, value] of Object.entries(fields)) await this.form.getByLabel(label).fill(value);
  }

  async save(): Promise<void> {
    await this.form.getByRole("button", { name: "Save cloud settings" }).click();
  }

  /** What saving said: "Cloud settings saved." or the refusal. */
  async outcome(): Promise<string> {
    const said = this.form.locator('[role="status"], [role="alert"]');
    await said.waitFor();
    return (await said.textContent()) ?? "";
  }

  /** The settings' state as shown above the form (VMs, token, failures, last error). */
  get status(): Locator {
    return this.page.getByTestId("cloud-status");
  }
}
