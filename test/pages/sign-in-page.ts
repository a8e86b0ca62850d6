import type { Page } from "playwright-core";

/** The sign-in page, as a signed-out visitor sees it. */
export class SignInPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async signInWithGitHub(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/signin`);
    await this.page.getByRole("button", { name: "Sign in with GitHub" }).click();
  }

  /** The refusal shown to someone GitHub vouches for but SAM does not admit. */
  async refusal(): Promise<string> {
    await this.page.waitForURL(/\/signin\/refused/);
    return (await this.page.getByRole("alert").filter({ hasText: "GitHub says" }).textContent()) ?? "";
  }
}
