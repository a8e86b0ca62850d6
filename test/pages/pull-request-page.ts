import type { Locator, Page } from "playwright-core";

/** A pull request's page: its header, merge box, diffs (with line comments) and comments. */
export class PullRequestPage {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
    private readonly projectId: string,
  ) {}

  /** Opens PR `number` and waits until every file's diff is drawn and the page's stream is live. */
  async open(number: number): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${this.projectId}/pulls/${number}`);
    await this.waitForDiffs();
  }

  /** Waits until every file's diff is drawn and highlighted, and the page's stream is live. */
  async waitForDiffs(): Promise<void> {
    await this.page.locator('[data-testid="pull-diffs"][data-drawn="all"]').waitFor();
    await this.page.waitForFunction(
      () => !document.querySelector('[data-testid="diff-body"][data-highlight="pending"]'),
    );
    await this.page.locator('[data-testid="pull-stream"][data-state="live"]').waitFor({ state: "attached" });
  }

  /** The PR's state as its badge says it. */
  async state(): Promise<string | null> {
    return this.page.getByTestId("pull-request").locator("header [data-testid=pull-state]").getAttribute("data-state");
  }

  file(path: string): Locator {
    return this.page.locator(`[data-testid="diff-file"][data-path="${path}"]`);
  }

  /** The diff row of line `line` of the new version of `path`. */
  newLine(path: string, line: number): Locator {
    return this.file(path).locator(`tr:has([data-new-line="${line}"])`).first();
  }

  /** Comments on line `line` of `path`: its number opens a form under it. */
  async commentOnLine(path: string, line: number, body: string): Promise<void> {
    await this.file(path)
      .getByRole("button", { name: `Comment on line ${line}`, exact: true })
      .click();
    const form = this.page.getByRole("form", { name: `Comment on line ${line}` });
    await form.getByLabel(`Comment on line ${line}`).fill(body);
    await form.getByRole("button", { name: "Comment", exact: true }).click();
    await form.waitFor({ state: "detached" });
  }

  /** Switches every diff to the unified or the split view. */
  async viewAs(mode: "Unified" | "Split"): Promise<void> {
    await this.page.getByRole("group", { name: "Diff view" }).getByText(mode, { exact: true }).click();
  }

  /** The comments shown under the lines of `path`. */
  lineComments(path: string): Locator {
    return this.file(path).getByTestId("line-comments").getByTestId("pull-comment");
  }

  /** Every comment in the PR's list. */
  get comments(): Locator {
    return this.page.getByTestId("pull-comments").getByTestId("pull-comment");
  }

  get mergeButton(): Locator {
    return this.page.getByTestId("merge-box").getByRole("button", { name: "Merge", exact: true });
  }

  get mergeBlocked(): Locator {
    return this.page.getByTestId("merge-blocked");
  }

  get conflicts(): Locator {
    return this.page.getByTestId("merge-conflicts").getByRole("listitem");
  }

  /** Hands the conflicts to a revision task; answers what the page says. */
  async askAgentToResolve(): Promise<string | null> {
    const form = this.page.getByRole("form", { name: "Ask the agent to resolve" });
    await form.getByRole("button", { name: "Ask the agent to resolve" }).click();
    return form.getByRole("status").textContent();
  }

  /** Requests changes with `body`; answers what the page says. */
  async requestChanges(body: string): Promise<string | null> {
    const form = this.page.getByRole("form", { name: "Request changes" });
    await form.getByLabel("What should change (the comments go too)").fill(body);
    await form.getByRole("button", { name: "Request changes" }).click();
    return form.getByRole("status").textContent();
  }

  /** Merges with `strategy` and waits (live, without a reload) until the page says merged. */
  async merge(strategy: "merge" | "squash" | "rebase" = "merge"): Promise<void> {
    await this.page.getByLabel("Merge strategy").selectOption(strategy);
    await this.mergeButton.click();
    await this.page
      .locator('[data-testid="pull-request"] header [data-testid="pull-state"][data-state="merged"]')
      .waitFor();
  }
}
