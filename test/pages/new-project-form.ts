import type { Locator, Page } from "playwright-core";

/** The "New project" form of the projects page. */
export class NewProjectForm {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  private form(): Locator {
    return this.page.getByRole("form", { name: "New project" });
  }

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects`);
  }

  /** The label of the repository field: it says whether local paths are offered. */
  async repositoryLabel(): Promise<string> {
    return (await this.page.locator('label[for="repo"]').textContent()) ?? "";
  }

  async submit(repo: string, name?: string): Promise<void> {
    await this.page.locator("#repo").fill(repo);
    if (name !== undefined) await this.page.locator("#name").fill(name);
    await this.page.getByRole("button", { name: "Create project" }).click();
  }

  async repoError(): Promise<string> {
    const error = this.page.locator("#repo-error");
    await error.waitFor();
    return (await error.textContent()) ?? "";
  }

  async nameError(): Promise<string> {
    const error = this.page.locator("#name-error");
    await error.waitFor();
    return (await error.textContent()) ?? "";
  }

  /** What the fields hold now. */
  async values(): Promise<{ repo: string; name: string }> {
    return { repo: await this.page.locator("#repo").inputValue(), name: await this.page.locator("#name").inputValue() };
  }

  /** Every error the form shows, field messages and banner alike. */
  alerts(): Promise<string[]> {
    return this.form().getByRole("alert").allTextContents();
  }
}
