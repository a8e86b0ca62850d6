import type { Locator, Page } from "playwright-core";

/** One idea's page: its edit form and Execute. */
export class IdeaPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  /** Opens the page and waits until it follows the board stream. */
  async open(projectId: string, ideaId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${projectId}/ideas/${ideaId}`);
    await this.page.locator('[data-testid="idea-stream"][data-state="live"]').waitFor({ state: "attached" });
  }

  form(): Locator {
    return this.page.getByRole("form", { name: "Edit idea" });
  }

  field(label: "Title" | "Priority" | "Status" | "Content"): Locator {
    return this.form().getByLabel(new RegExp(`^${label}`));
  }

  /** The note that a field changed elsewhere while the user edits it. */
  changedElsewhere(field: "title" | "priority" | "status" | "content"): Locator {
    return this.page.getByTestId(`idea-${field}-changed`);
  }

  async save(): Promise<void> {
    await this.form().getByRole("button", { name: "Save idea" }).click();
  }

  alerts(): Promise<string[]> {
    return this.form().getByRole("alert").allTextContents();
  }

  executeButton(): Locator {
    return this.page.getByTestId("idea-execute").getByRole("button");
  }

  status(status: string): Locator {
    return this.page.locator(`[data-testid="idea-status"] [data-idea-status="${status}"]`);
  }
}
