import type { Locator, Page } from "playwright-core";

/** The Webhooks section of a project's settings page. */
export class WebhooksPanel {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(projectId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${projectId}/settings`);
  }

  form(): Locator {
    return this.page.getByRole("form", { name: "Add webhook" });
  }

  async add(url: string, opts: { format?: string; secret?: string } = {}): Promise<void> {
    await this.form().getByLabel("Webhook URL").fill(url);
    if (opts.format) await this.form().getByLabel("Webhook format").selectOption(opts.format);
    if (opts.secret) await this.form().getByLabel("Signing secret").fill(opts.secret);
    await this.form().getByRole("button", { name: "Add webhook" }).click();
  }

  /** The listed webhooks' hints (scheme and host). */
  hints(): Locator {
    return this.page.getByTestId("webhook-hint");
  }

  /** The recent deliveries of the webhook listed with `hint`. */
  deliveries(hint: string): Locator {
    return this.page.getByTestId("webhook").filter({ hasText: hint }).getByTestId("webhook-delivery");
  }

  async replayFirst(hint: string): Promise<void> {
    await this.deliveries(hint).first().getByRole("button", { name: "Replay" }).click();
  }

  async remove(hint: string): Promise<void> {
    await this.page.getByTestId("webhook").filter({ hasText: hint }).getByRole("button", { name: "Remove" }).click();
  }
}
