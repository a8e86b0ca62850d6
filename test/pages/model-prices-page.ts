import type { Locator, Page } from "playwright-core";

/** The admin's price table (/admin/prices): one row per model, saved whole. */
export class ModelPricesPage {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/admin/prices`);
    await this.page.getByRole("heading", { name: "Model prices" }).waitFor();
  }

  get form(): Locator {
    return this.page.getByRole("form", { name: "Model prices" });
  }

  /** Adds a row for a model and types its prices (dollars per million tokens; cached may be left blank). */
  async addPrice(price: { model: string; input: string; output: string; cached?: string }): Promise<void> {
    const n = (await this.form.getByTestId("model-price-row").count()) + 1;
    await this.form.getByRole("button", { name: "Add a model" }).click();
    await this.form.getByLabel(`Model ${n}`, { exact: true }).fill(price.model);
    await this.form.getByLabel(`Input $/M of model ${n}`, { exact: true }).fill(price.input);
    await this.form.getByLabel(`Output $/M of model ${n}`, { exact: true }).fill(price.output);
    if (price.cached !== undefined)
      await this.form.getByLabel(`Cached input $/M of model ${n}`, { exact: true }).fill(price.cached);
  }

  async save(): Promise<void> {
    await this.form.getByRole("button", { name: "Save prices" }).click();
  }

  /** What saving said: "Prices saved." or the refusal. */
  get outcome(): Locator {
    return this.form.locator('[role="status"], [role="alert"]');
  }
}
