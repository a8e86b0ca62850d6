import type { Locator, Page } from "playwright-core";

/** The admin's Nodes page (/admin/nodes): one row per node, its status, drain and remove. */
export class NodesPage {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/admin/nodes`);
    await this.page.getByRole("heading", { name: "Nodes", exact: true }).waitFor();
  }

  get table(): Locator {
    return this.page.getByRole("table", { name: "Nodes" });
  }

  row(nodeId: string): Locator {
    return this.table.locator(`[data-testid="node-row"][data-node-id="${nodeId}"]`);
  }

  status(nodeId: string): Locator {
    return this.row(nodeId).getByTestId("node-status");
  }

  running(nodeId: string): Locator {
    return this.row(nodeId).getByTestId("node-running");
  }

  async drain(nodeId: string): Promise<void> {
    await this.row(nodeId).getByRole("button", { name: "Drain" }).click();
  }

  async remove(nodeId: string): Promise<void> {
    await this.row(nodeId).getByRole("button", { name: "Remove" }).click();
  }

  /** The creation failures of the cloud settings, one entry per setting. */
  get cloudFailures(): Locator {
    return this.page.getByRole("list", { name: "Cloud VM creation" }).getByTestId("cloud-failure");
  }
}
