import type { Page } from "playwright-core";

export interface TokenRowView {
  name: string;
  status: string;
}

/** The account page: the user's personal tokens. */
export class AccountPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/account`);
  }

  /** Creates a token and returns it as the page shows it, once. */
  async createToken(name: string, expiry = "90 days"): Promise<string> {
    const form = this.page.getByRole("form", { name: "New token" });
    await form.getByLabel("Token name").fill(name);
    await form.getByLabel("Expires after").selectOption({ label: expiry });
    await form.getByRole("button", { name: "Create token" }).click();
    const shown = this.page.getByTestId("new-token");
    await shown.waitFor();
    return (await shown.textContent()) ?? "";
  }

  /** Submits the new-token form and waits for its refusal; resolves with the errors it shows. */
  async createRefusedToken(name: string, expiry: string): Promise<string[]> {
    const form = this.page.getByRole("form", { name: "New token" });
    await form.getByLabel("Token name").fill(name);
    await form.getByLabel("Expires after").selectOption({ label: expiry });
    await form.getByRole("button", { name: "Create token" }).click();
    // The form and its answer below it.
    const section = form.locator("xpath=..");
    await section.getByRole("alert").first().waitFor();
    return section.getByRole("alert").allTextContents();
  }

  /** What the new-token form's fields hold now. */
  async newTokenValues(): Promise<{ name: string; expiry: string }> {
    const form = this.page.getByRole("form", { name: "New token" });
    const expiry = form.getByLabel("Expires after");
    return {
      name: await form.getByLabel("Token name").inputValue(),
      expiry: (await expiry.locator("option:checked").textContent()) ?? "",
    };
  }

  async tokens(): Promise<TokenRowView[]> {
    const rows = this.page.getByTestId("token-row");
    const views: TokenRowView[] = [];
    for (const row of await rows.all()) {
      const cells = await row.locator("td").allTextContents();
      views.push({ name: cells[0] ?? "", status: cells[1] ?? "" });
    }
    return views;
  }

  async revoke(name: string): Promise<void> {
    const row = this.page.getByTestId("token-row").filter({ hasText: name });
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByRole("cell", { name: "revoked", exact: true }).waitFor();
  }
}
