import type { Page } from "playwright-core";

/** The "New project" form of the projects page. */
export class NewProjectForm {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects`);
  }

  /** The label of the repository field: it says whether local paths are offered. */
  async repositoryLabel(): Promise<string> {
    return (await this.page.locator('label[for="repo"]').textContent()) ?? "";
  }

  async submit(repo: string): Promise<void> {
    await this.page.locator("#repo").fill(repo);
    await this.page.getByRole("button", { name: "Create project" }).click();
  }

  async repoError(): Promise<string> {
    const error = this.page.locator("#repo-error");
    await error.waitFor();
    return (await error.textContent()) ?? "";
  }
}
